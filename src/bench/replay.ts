/**
 * Replay rate: a simulated ward recording (JSON lines, as `vigil replay` reads them) replayed by
 * `vigil replay FILE` as a whole process, observations per second of wall time, the process's
 * start included. The recording is written first (not timed).
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedRecording } from '../burden/simulated.js';
import { formatInput } from '../replay/writer.js';
import type { BenchEnv } from './env.js';
import { runNode, VIGIL_CLI } from './proc.js';

const SCENARIOS = ['stable', 'sepsis', 'desaturation', 'brady', 'artifact-storm', 'sensor-off'] as const;

export interface ReplayOptions {
  readonly patients: number;
  readonly hours: number;
  /** Timed runs; the best is reported (the machine is shared). */
  readonly runs: number;
}

export interface ReplayResult {
  readonly patients: number;
  readonly hours: number;
  readonly lines: number;
  readonly observations: number;
  readonly bytes: number;
  /** s, the best run */
  readonly seconds: number;
  readonly obsPerS: number;
  readonly outputs: number;
  /** The most NEWS2 changes and alarm transitions one patient had, per 6 h of the recording. */
  readonly busiestPer6h: { readonly news2: number; readonly alarms: number };
}

export async function runReplayRate(env: BenchEnv, o: ReplayOptions): Promise<ReplayResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-replay-'));
  try {
    const file = join(dir, 'ward.jsonl');
    env.progress(`replay: writing ${o.hours} h of ${o.patients} simulated patients (a wearable every 10 s, a cuff every 5 min)`);
    const rec = new SimulatedRecording({
      durationS: o.hours * 3600,
      intervalS: 10,
      patients: Array.from({ length: o.patients }, (_, i) => ({ patientId: `P${i + 1}`, scenario: SCENARIOS[i % SCENARIOS.length]!, seed: 11 + i, ward: 'W3', bed: `B${i + 1}`, startOffsetMs: i * 770 })),
    });
    let lines = 0;
    let observations = 0;
    const out = createWriteStream(file);
    for await (const batch of rec.batches()) {
      let text = '';
      for (const i of batch) {
        const l = formatInput(i);
        if (l === null) continue;
        text += l + '\n';
        lines++;
        if (i.type === 'obs') observations++;
        else if (i.type === 'reading') observations += i.obs.length;
      }
      if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
    const bytes = (await stat(file)).size;
    let best = Number.POSITIVE_INFINITY;
    let outputs = 0;
    let last = '';
    for (let k = 0; k < o.runs; k++) {
      const t0 = performance.now();
      const { stdout } = await runNode(VIGIL_CLI, ['replay', file], { maxBuffer: 1 << 28 });
      best = Math.min(best, (performance.now() - t0) / 1000);
      outputs = stdout.split('\n').length - 1;
      last = stdout;
    }
    const busiestPer6h = busiest(last, o.hours);
    env.progress(`replay: ${observations} observations in ${best.toFixed(2)} s (${Math.round(observations / best)} obs/s)`);
    return { patients: o.patients, hours: o.hours, lines, observations, bytes, seconds: best, obsPerS: observations / best, outputs, busiestPer6h };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The most NEWS2 changes and alarm transitions of any one patient in `vigil replay`'s output, per 6 h. */
function busiest(output: string, hours: number): { news2: number; alarms: number } {
  const counts = new Map<string, { news2: number; alarms: number }>();
  for (const line of output.split('\n')) {
    if (!line) continue;
    const e = JSON.parse(line) as { patient?: string; type?: string };
    if (e.patient === undefined || (e.type !== 'news2' && e.type !== 'alarm')) continue;
    const c = counts.get(e.patient) ?? { news2: 0, alarms: 0 };
    if (e.type === 'news2') c.news2++;
    else c.alarms++;
    counts.set(e.patient, c);
  }
  const per6h = (n: number): number => Math.ceil((n * 6) / hours);
  return { news2: per6h(Math.max(0, ...[...counts.values()].map((c) => c.news2))), alarms: per6h(Math.max(0, ...[...counts.values()].map((c) => c.alarms))) };
}
