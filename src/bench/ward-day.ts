/**
 * Writes a full ward-day into a gateway's data directory, the way a live gateway would, then dies
 * without a word (SIGKILL): the restart phase of the benchmark then times how long `vigil start`
 * takes to come back over it.
 *
 * It runs the real gateway in-process on a simulated clock and feeds it a simulated ward's MQTT
 * frames (json-v1 wearables every `intervalS`, a cuff every 5 min) through the same ingest the
 * broker uses, saving the alarm state every `saveEverySeconds` of ward time, the last time
 * `tailSeconds` before the end: the restart then replays that much, the most a crash leaves.
 *
 *   node dist/src/bench/ward-day.js CONFIG.yaml HOURS INTERVAL_S SAVE_EVERY_S TAIL_S
 *
 * Prints one JSON line on stdout with what it wrote.
 */
import { performance } from 'node:perf_hooks';
import { loadConfig } from '../config/load.js';
import { Gateway } from '../gateway.js';
import { log } from '../core/log.js';
import { jsonV1Profile } from '../../devices/json-v1/index.js';
import { SimulatedRecording } from '../burden/simulated.js';

const SCENARIOS = ['stable', 'stable', 'stable', 'desaturation', 'sepsis', 'brady', 'artifact-storm', 'sensor-off'] as const;
const BATCH = 2000;

async function main(): Promise<void> {
  const [file, hoursArg, intervalArg, saveArg, tailArg] = process.argv.slice(2);
  const config = loadConfig(file);
  const hours = Number(hoursArg);
  const patients = config.census.patients;
  const rec = new SimulatedRecording({
    durationS: hours * 3600,
    intervalS: Number(intervalArg),
    patients: patients.map((p, i) => ({ patientId: p.id, ward: p.ward, bed: p.bed, scenario: SCENARIOS[i % SCENARIOS.length]!, seed: 100 + i, startOffsetMs: (i * 997) % 5000 })),
  });
  let now = rec.startEpochMs;
  const gateway = new Gateway(config, { clock: () => now, logger: log().child({ component: 'ward-day' }) });
  await gateway.start();
  const saveEveryMs = Number(saveArg) * 1000;
  const lastSave = rec.endEpochMs - Number(tailArg) * 1000;
  let nextSave = rec.startEpochMs + saveEveryMs;
  let frames = 0;
  const started = performance.now();
  let batch: Array<Promise<unknown>> = [];
  for (const frame of rec.frames()) {
    const due = Math.min(nextSave, lastSave);
    if (frame.receivedAt > due && nextSave !== Number.POSITIVE_INFINITY) {
      await Promise.all(batch);
      batch = [];
      now = due;
      await gateway.detectors.checkpoint();
      nextSave = due === lastSave ? Number.POSITIVE_INFINITY : nextSave + saveEveryMs;
    }
    now = frame.receivedAt;
    batch.push(gateway.ingest.accept(frame, jsonV1Profile, true));
    frames++;
    if (batch.length >= BATCH) {
      await Promise.all(batch);
      batch = [];
    }
  }
  await Promise.all(batch);
  const spool = gateway.spool.stats();
  process.stdout.write(`${JSON.stringify({ frames, records: spool.lastSeq, spoolBytes: spool.bytes, seconds: (performance.now() - started) / 1000 })}\n`, () => {
    // a crash: no last save, no clean close
    process.kill(process.pid, 'SIGKILL');
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`ward-day: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
