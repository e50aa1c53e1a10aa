import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Spool } from '../../../src/spool/spool.js';
import { memoryLogger, tempDir } from './helpers.js';

const root = resolve(import.meta.dirname, '../../..');
let build: string;
let spoolJs: string;

beforeAll(async () => {
  // The child runs plain JavaScript: transpile the spool and the core files it imports into a
  // temporary tree (type-checking is tsc's job elsewhere). This keeps the test independent of
  // the rest of the tree building and of a stale dist/.
  build = await mkdtemp(join(tmpdir(), 'vigil-spool-build-'));
  await writeFile(join(build, 'package.json'), '{"type":"module"}');
  await symlink(join(root, 'node_modules'), join(build, 'node_modules'), 'dir');
  for (const sub of ['src/spool', 'src/core']) {
    await mkdir(join(build, sub), { recursive: true });
    for (const file of (await readdir(join(root, sub))).filter((f) => f.endsWith('.ts'))) {
      const out = ts.transpileModule(await readFile(join(root, sub, file), 'utf8'), {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
      });
      await writeFile(join(build, sub, file.replace(/\.ts$/, '.js')), out.outputText);
    }
  }
  spoolJs = join(build, 'src/spool/spool.js');
});

afterAll(async () => {
  if (build) await rm(build, { recursive: true, force: true });
});

/** Runs the child until it has acknowledged at least `atLeast` appends, then SIGKILLs it. */
function runAndKill(dir: string, round: number, atLeast: number): Promise<Map<number, string>> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [join(import.meta.dirname, 'crash-child.mjs'), spoolJs, dir, String(round)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, VIGIL_LOG_LEVEL: 'warn' },
    });
    const acked = new Map<number, string>();
    let rest = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      const lines = (rest + d.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) {
        const [seq, key] = line.split(' ');
        if (seq !== 'ready') acked.set(Number(seq), key!);
      }
      if (acked.size >= atLeast && child.exitCode === null && !child.killed) child.kill('SIGKILL');
    });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') fail(new Error(`child ended with ${code}/${signal}: ${stderr}`));
      else done(acked);
    });
  });
}

describe('Spool crash safety', () => {
  it('keeps every acknowledged append across repeated SIGKILLs mid-stream', async () => {
    const { dir, cleanup } = await tempDir();
    try {
      const acked = new Map<number, string>();
      for (let round = 1; round <= 3; round++) {
        // Different kill points per round: mid group commit, mid segment roll, anywhere.
        for (const [seq, key] of await runAndKill(dir, round, 1500 + round * 700)) {
          expect(acked.has(seq), `seq ${seq} acknowledged twice`).toBe(false);
          acked.set(seq, key);
        }
        const spool = await Spool.open({ dir, maxBytes: 1 << 30, segmentBytes: 64 * 1024, logger: memoryLogger().logger });
        try {
          // Read without committing, so retention keeps everything for the next round's check.
          const r = await spool.reader('check');
          const onDisk = new Map<number, string>();
          for (const e of (await r.read(1_000_000)).entries) onDisk.set(e.seq, e.payload.toString().replace(/\.+$/, ''));
          const last = spool.stats().lastSeq;
          // Nothing acknowledged is missing or altered, and the log has no holes.
          for (const [seq, key] of acked) expect(onDisk.get(seq), `seq ${seq}`).toBe(key);
          expect(onDisk.size).toBe(last);
          expect(Math.max(...acked.keys())).toBeLessThanOrEqual(last);
        } finally {
          await spool.close();
          await rm(join(dir, 'cursors', 'check.json'), { force: true });
        }
      }
      expect(acked.size).toBeGreaterThan(3 * 1500);
    } finally {
      await cleanup();
    }
  });
});
