import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { removeLeftTempFiles, TempFile } from '../../../src/core/atomic-file.js';
import { Deferred, DeferredList, made, writeJson, type Deferring } from '../../../src/core/json-stream.js';

const written = (v: unknown): string => {
  const parts: string[] = [];
  writeJson(v, (t) => parts.push(t));
  return parts.join('');
};

describe('JSON written as it is made', () => {
  it('gives the text JSON.stringify gives, deferred parts made in order, each once', () => {
    const made: string[] = [];
    const value = {
      a: 1,
      skipped: undefined,
      f: () => 1,
      text: 'line\nbreak "quoted"',
      nested: { list: new DeferredList(() => [1, 2].map((n) => (made.push(`item ${n}`), { n, deeper: new Deferred(() => [n]) }))), empty: new DeferredList(() => []) },
      later: new Deferred(() => (made.push('later'), { when: new Date(0), none: null, arr: [undefined, () => 1] })),
      map: new Map([[1, 2]]),
    };
    const text = written(value);
    expect(text).toBe(JSON.stringify(value));
    expect(made).toEqual(['item 1', 'item 2', 'later', 'item 1', 'item 2', 'later']);
    expect(text).not.toContain('\n'); // one line: the state file's JSON ends at its first newline
    expect(JSON.parse(text)).toEqual({ a: 1, text: 'line\nbreak "quoted"', nested: { list: [{ n: 1, deeper: [1] }, { n: 2, deeper: [2] }], empty: [] }, later: { when: '1970-01-01T00:00:00.000Z', none: null, arr: [null, null] }, map: {} });
  });

  it('made() gives the plain value of a deferring object', () => {
    const d: Deferring<{ a: number; b: string[]; c: { x: number } }> = { a: 1, b: new DeferredList(() => ['x', 'y']), c: new Deferred(() => ({ x: 2 })) };
    expect(made(d)).toEqual({ a: 1, b: ['x', 'y'], c: { x: 2 } });
  });

  it('refuses a value with no JSON, naming its kind', () => {
    expect(() => written(() => 1)).toThrow('writeJson: a function has no JSON');
  });
});

describe('TempFile', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('writes text and bytes of every size in order, and replaces the file only on commit', async () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-temp-'));
    dirs.push(d);
    const f = join(d, 'state');
    writeFileSync(f, 'old');
    const t = TempFile.open(f, 0o600);
    const big = Buffer.alloc(3 * 1024 * 1024, 7); // larger than a chunk
    const long = 'é'.repeat(600_000); // 1.2 MB of UTF-8 in one piece
    t.text('{"a":1}');
    t.bytes(new Uint8Array([1, 2, 3]));
    t.bytes(big);
    t.text(long);
    t.bytes(new Uint8Array([4]));
    const expected = Buffer.concat([Buffer.from('{"a":1}'), Buffer.from([1, 2, 3]), big, Buffer.from(long), Buffer.from([4])]);
    expect(t.size).toBe(expected.length);
    expect(readFileSync(f, 'utf8')).toBe('old');
    await t.commit();
    expect(readFileSync(f).equals(expected)).toBe(true);
    expect(readdirSync(d)).toEqual(['state']);
    await expect(t.commit()).rejects.toThrow(/already committed or discarded/);
  });

  it('a commit that fails removes what it wrote and leaves the file it would replace', async () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-temp-'));
    dirs.push(d);
    const f = join(d, 'state');
    mkdirSync(join(f, 'inside'), { recursive: true }); // a directory with something in it: no rename over it
    const t = TempFile.open(f);
    t.text('new');
    await expect(t.commit()).rejects.toThrow();
    expect(readdirSync(d)).toEqual(['state']);
    expect(readdirSync(f)).toEqual(['inside']);
  });

  it('a write that throws part-way leaves the file it would replace and nothing beside it', () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-temp-'));
    dirs.push(d);
    const f = join(d, 'state');
    writeFileSync(f, 'old');
    expect(() =>
      TempFile.write(f, 0o600, (out) => {
        out.bytes(Buffer.alloc(2 * 1024 * 1024, 1)); // on disk already: larger than a chunk
        throw new Error('a part that has no JSON');
      }),
    ).toThrow('a part that has no JSON');
    expect(readdirSync(d)).toEqual(['state']);
    expect(readFileSync(f, 'utf8')).toBe('old');
  });

  it('what another process left half-written is found and removed; the one this process is writing, and other files, stay', async () => {
    const d = mkdtempSync(join(tmpdir(), 'vigil-temp-'));
    dirs.push(d);
    const f = join(d, 'state');
    writeFileSync(f, 'saved');
    writeFileSync(`${f}.tmp-4242`, 'x'.repeat(1000));
    writeFileSync(`${f}.tmp-77`, 'y');
    writeFileSync(`${f}.tmp-notes`, 'not a temp file');
    writeFileSync(join(d, 'other.tmp-4242'), 'another file');
    const mine = TempFile.open(f);
    mine.text('being written');
    const removed = await removeLeftTempFiles(f);
    expect(removed.sort((a, b) => a.path.localeCompare(b.path))).toEqual([
      { path: `${f}.tmp-4242`, bytes: 1000 },
      { path: `${f}.tmp-77`, bytes: 1 },
    ]);
    expect(readdirSync(d).sort()).toEqual(['other.tmp-4242', 'state', `state.tmp-${process.pid}`, 'state.tmp-notes']);
    await mine.commit();
    expect(readFileSync(f, 'utf8')).toBe('being written');
    expect(await removeLeftTempFiles(join(d, 'missing', 'state'))).toEqual([]);
  });
});
