/**
 * Restart: how long a gateway takes to come back, with its alarm state, over a full ward-day in
 * its spool. `ward-day.ts` writes the day through a real gateway on a simulated clock (InfluxDB
 * unreachable all day, so the spool keeps every record) and is killed a save interval after its
 * last alarm-state save: the worst a crash leaves. Then `vigil start` is timed from spawn to
 * answering /healthz, with what it reports of the restore.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { STATE_FILE_IN_DATA_DIR } from '../alarms/state-file.js';
import { GatewayChild } from './gateway-child.js';
import type { BenchEnv } from './env.js';
import { runNode } from './proc.js';

const WARD_DAY = fileURLToPath(new URL('./ward-day.js', import.meta.url));

export interface RestartOptions {
  /** Beds (one patient, a wearable and a cuff each). */
  readonly beds: number;
  /** Hours of ward time in the spool. */
  readonly hours: number;
  /** s between a wearable's messages */
  readonly intervalS: number;
  /** `alarms.checkpointSeconds`: the restart replays up to this much. */
  readonly checkpointSeconds: number;
}

export interface RestartResult {
  readonly beds: number;
  readonly hours: number;
  /** Spool records written over the day. */
  readonly records: number;
  readonly spoolBytes: number;
  /** Bytes of the saved alarm state (detectors and ward view). */
  readonly stateBytes: number;
  /** s the day took to write (not part of the restart) */
  readonly writeS: number;
  /** ms from spawning `vigil start` to its first /healthz answer */
  readonly comeBackMs: number;
  /** ms the alarm state took to load and replay (part of the above) */
  readonly restoreMs: number;
  /** spool records replayed after the last save */
  readonly replayed: number;
  readonly activeAlarms: number;
  readonly restored: boolean;
}

export async function runRestart(env: BenchEnv, o: RestartOptions): Promise<RestartResult> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-bench-restart-'));
  try {
    const beds = Array.from({ length: o.beds }, (_, i) => String(i + 1));
    const config = {
      log: { level: 'error' },
      dataDir: join(dir, 'data'),
      mqtt: { host: '127.0.0.1', port: env.ports.mqtt },
      http: { host: '127.0.0.1', port: env.ports.http },
      spool: { maxBytes: 64 * 1024 ** 3 },
      alarms: { checkpointSeconds: o.checkpointSeconds },
      devices: beds.flatMap((b) => [`wearable-P${b}`, `cuff-P${b}`].map((id) => ({ id, secret: `${id}-bench-secret`, trustDeviceTime: true }))),
      census: {
        wards: [{ id: 'w1', beds }],
        patients: beds.map((b) => ({ id: `P${b}`, ward: 'w1', bed: b, devices: [`wearable-P${b}`, `cuff-P${b}`] })),
      },
    };
    const file = join(dir, 'vigil.yaml');
    await writeFile(file, stringify(config));
    env.progress(`restart: writing ${o.hours} h of a ${o.beds}-bed ward into the spool (a wearable every ${o.intervalS} s, a cuff every 5 min)`);
    const day = await runNode(WARD_DAY, [file, String(o.hours), String(o.intervalS), '3600', String(o.checkpointSeconds - 1)], { maxBuffer: 1 << 20, env: { ...process.env, VIGIL_LOG_LEVEL: 'error' } }).catch(
      // killed on purpose once it has written the day: its output says so
      (err: { stdout?: string; signal?: string }) => {
        if (err.signal === 'SIGKILL' && err.stdout) return { stdout: err.stdout };
        throw err;
      },
    );
    const written = JSON.parse(day.stdout.trim()) as { records: number; spoolBytes: number; seconds: number };
    const stateBytes = (await stat(join(dir, 'data', STATE_FILE_IN_DATA_DIR))).size;
    env.progress(`restart: ${written.records} records (${Math.round(written.spoolBytes / 1e6)} MB) written in ${written.seconds.toFixed(0)} s; starting the gateway over them`);
    const t0 = performance.now();
    const gw = await GatewayChild.startIn(dir, file, env.ports.http);
    const comeBackMs = performance.now() - t0;
    try {
      const a = (await gw.health()).alarmState as { ms: number; replayed: number; activeAlarms: number; restored: boolean };
      return { beds: o.beds, hours: o.hours, records: written.records, spoolBytes: written.spoolBytes, stateBytes, writeS: written.seconds, comeBackMs, restoreMs: a.ms, replayed: a.replayed, activeAlarms: a.activeAlarms, restored: a.restored };
    } finally {
      await gw.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
