import { afterEach, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../../src/web/audit.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('AuditLog group commit', () => {
  it('entries recorded at once all reach the file whole and in call order, each caller told once it is on disk', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-audit-'));
    const file = join(dir, 'audit', 'audit.jsonl');
    let now = 0;
    const log = new AuditLog(file, () => now++);
    const settled: number[] = [];
    await Promise.all(Array.from({ length: 200 }, (_, i) => log.record({ who: `u${i}`, role: 'nurse', action: 'signin' }).then(() => settled.push(i))));
    expect(settled).toHaveLength(200);
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { who: string; ts: number });
    expect(lines.map((l) => l.who)).toEqual(Array.from({ length: 200 }, (_, i) => `u${i}`));
    expect((await log.recent(1))[0]?.who).toBe('u199');
    await log.close();
  });

  it('a failed write rejects its callers and the next entries still go out', async () => {
    dir = mkdtempSync(join(tmpdir(), 'vigil-audit-'));
    const file = join(dir, 'audit.jsonl');
    // A directory where the file should be: opening it fails.
    mkdirSync(file);
    const log = new AuditLog(file);
    await expect(log.record({ who: 'a', role: 'nurse', action: 'signin' })).rejects.toThrow(/EISDIR/);
    rmdirSync(file);
    await log.record({ who: 'b', role: 'nurse', action: 'signin' });
    expect(readFileSync(file, 'utf8')).toContain('"who":"b"');
    await log.close();
  });
});
