/**
 * Run by the histories phase as `node --expose-gc histories-child.js PATIENTS NEWS2 ALARMS`:
 * fills a ward store as the station's would be after its whole horizon (6 h) at PATIENTS
 * patients — every vital's trend, then NEWS2 changes and alarm transitions per patient — and
 * prints what each costs in memory (heap and typed arrays) as one JSON line.
 */
import { WardStore } from '../web/ward-store.js';
import { fillLogs, fillTrends } from './fill-ward.js';
import { benchPatientId } from './latency.js';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');
const [patients, news2, alarms] = process.argv.slice(2).map(Number) as [number, number, number];

/**
 * Memory once what is dropped is freed: the bytes of an array buffer found dead go back after
 * the collection, in the background, so it collects again once that had a moment.
 */
async function settled(): Promise<NodeJS.MemoryUsage> {
  gc!();
  await new Promise((r) => setTimeout(r, 200));
  gc!();
  return process.memoryUsage();
}

const before = await settled();
const store = new WardStore();
const end = Date.now();
fillTrends(store, patients, end);
const trends = await settled();
fillLogs(store, patients, news2, alarms, end);
const after = await settled();
const MB = 1048576;
process.stdout.write(
  `${JSON.stringify({
    patients, news2, alarms,
    trendsMB: (trends.heapUsed + trends.external - before.heapUsed - before.external) / MB,
    logsMB: (after.heapUsed + after.external - trends.heapUsed - trends.external) / MB,
    kept: store.news2History(benchPatientId(0), 0).length + store.alarmHistory(benchPatientId(0), 0).length,
  })}\n`,
);
