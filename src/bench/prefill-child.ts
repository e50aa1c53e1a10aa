/**
 * Run as `node prefill-child.js PATIENTS NEWS2 ALARMS FILE` before a gateway starts: writes, as
 * its saved alarm state, a ward whose every history is full (`fill-ward.ts`: the benchmark's
 * patients, every vital's trend whole, the NEWS2 and alarm logs at the given counts) and
 * detectors with nothing in them yet. The gateway loads it as after a restart, so a load then
 * runs on a station holding what it would after six hours.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Pipeline } from '../alarms/pipeline.js';
import { STATE_FORMAT, writeStateNow, type StateToWrite } from '../alarms/state-file.js';
import { BlobWriter } from '../core/blobs.js';
import { defaultDetectorConfig } from '../detectors/config.js';
import { WardStore } from '../web/ward-store.js';
import { fillLogs, fillTrends } from './fill-ward.js';

const [patients, news2, alarms] = process.argv.slice(2, 5).map(Number) as [number, number, number];
const file = process.argv[5];
if (!file || ![patients, news2, alarms].every((n) => Number.isSafeInteger(n) && n >= 0)) throw new Error('usage: prefill-child.js PATIENTS NEWS2 ALARMS FILE');
const store = new WardStore();
const end = Date.now();
fillTrends(store, patients, end);
fillLogs(store, patients, news2, alarms, end);
mkdirSync(dirname(file), { recursive: true });
const blobs = new BlobWriter();
const state: StateToWrite = { format: STATE_FORMAT, savedAt: end, seq: 0, pipeline: new Pipeline(defaultDetectorConfig()).deferredSnapshot(), views: { ward: store.snapshot(blobs) } };
const written = writeStateNow(file, state, blobs);
await written.commit();
process.stdout.write(`${JSON.stringify({ file, bytes: written.bytes })}\n`);
