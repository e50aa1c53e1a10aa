/**
 * The benchmark's results: the JSON written to bench-results/, and the same figures as markdown
 * tables ready for the README, with the targets and whether this run met them.
 */
import { cpus, totalmem } from 'node:os';
import type { SustainedResult } from './sustained.js';
import type { CeilingResult } from './ceiling.js';
import type { SpoolResult } from './spool-catchup.js';
import type { RestartResult } from './restart.js';
import type { ReplayResult } from './replay.js';
import type { HistoriesResult } from './histories.js';
import type { SoakResult } from './soak.js';
import { WEARABLE_VITALS } from './protocol.js';
import { DEFAULT_MAX_ALARMS, DEFAULT_MAX_NEWS2, TRENDED_METRICS } from '../web/ward-store.js';

export interface BenchResults {
  readonly startedAt: string;
  readonly durationS: number;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly memoryMB: number; readonly node: string };
  readonly clientProcesses: number;
  /** One device in this many is a latency probe. */
  readonly probeEvery: number;
  /** `influx.batchSize` when the run overrode the default. */
  readonly influxBatchSize?: number;
  /** Node options the gateway ran with besides the defaults. */
  readonly gatewayNodeArgs: readonly string[];
  readonly sustained: readonly SustainedResult[];
  readonly ceiling?: CeilingResult;
  readonly spool?: SpoolResult;
  readonly restart?: RestartResult;
  readonly replay?: ReplayResult;
  readonly soak?: SoakResult;
  readonly histories?: HistoriesResult;
  readonly targets: readonly Target[];
}

export interface Target {
  readonly name: string;
  readonly target: string;
  readonly measured: string;
  /** undefined when this run did not measure it */
  readonly met: boolean | undefined;
}

export function machine(): BenchResults['machine'] {
  return { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? '?', memoryMB: Math.round(totalmem() / 1048576), node: process.version };
}

const MB = 1048576;
const n0 = (x: number): string => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const n1 = (x: number): string => (Number.isFinite(x) ? x.toFixed(1) : '–');

/** Checks the issue's targets against the largest load of 5,000+ devices at 1+ msg/s. */
export function targets(sustained: readonly SustainedResult[], ceiling: CeilingResult | undefined, replay?: ReplayResult, histories?: HistoriesResult): Target[] {
  const atLoad = sustained.filter((s) => s.devices >= 5000 && s.ratePerDevice >= 1);
  const ward = atLoad.filter((s) => !s.historiesFull).at(-1);
  const full = atLoad.filter((s) => s.historiesFull && (!ward || s.devices >= ward.devices)).at(-1);
  const none = 'not measured (no load of 5,000 devices at 1 msg/s in this run)';
  return [
    {
      name: 'devices sustained at 1 msg/s (5 observations each), all detectors on',
      target: '≥ 5,000',
      measured: ward ? `${n0(ward.devices)}: ${n0(ward.ackedMsgPerS)} of ${n0(ward.offeredMsgPerS)} msg/s acked, writer lag ${n0(ward.lagAtEnd)} records` : none,
      met: ward ? ward.sustained : undefined,
    },
    {
      name: 'p99 publish-to-alarm latency at that load',
      target: '< 250 ms',
      measured: ward ? `${n1(ward.latencyMs.p99)} ms (${ward.latencyMs.samples} alarms)` : none,
      // a p99 of fewer samples is the maximum of a few, not a percentile
      met: ward ? ward.latencyMs.p99 < 250 && ward.latencyMs.samples >= 1000 : undefined,
    },
    { name: 'gateway RSS at that load', target: '< 512 MB', measured: ward ? `${n0(ward.rssPeak / MB)} MB` : none, met: ward ? ward.rssPeak < 512 * MB : undefined },
    full ? measuredFull(full) : fullHistories(ward, histories),
    {
      name: 'Vigil throughput / plain aedes, same clients, same run',
      target: '≥ 0.5',
      measured: ceiling ? `${ceiling.ratio.toFixed(2)} (${n0(ceiling.vigilMsgPerS)} / ${n0(ceiling.aedesMsgPerS)} msg/s)` : 'not measured',
      met: ceiling ? ceiling.ratio >= 0.5 : undefined,
    },
    {
      name: '`vigil replay` of a ward recording, whole process',
      target: '≥ 200,000 obs/s',
      measured: replay ? `${n0(replay.obsPerS)} obs/s (${n0(replay.observations)} observations in ${n1(replay.seconds)} s)` : 'not measured',
      met: replay ? replay.obsPerS >= 200_000 : undefined,
    },
  ];
}

/** Vitals the station trends that the load's wearables do not send. */
const UNSENT_VITALS = TRENDED_METRICS.filter((m) => !(WEARABLE_VITALS as readonly string[]).includes(m));

/** MB the trends of `UNSENT_VITALS` hold (a gateway under load holds only those of the vitals it is sent). */
function unsentTrendsMB(h: HistoriesResult): number {
  return (h.trendsMB * UNSENT_VITALS.length) / TRENDED_METRICS.length;
}

const FULL_TARGET = 'gateway RSS at that load with every history full';

/** The RSS target once every history is full, measured: the peak of the load on a gateway started with them full. */
function measuredFull(s: SustainedResult): Target {
  const f = s.historiesFull!;
  const what = `every vital's trend, ${n0(f.news2)} NEWS2 changes and ${n0(f.alarms)} alarm transitions a patient`;
  return { name: `${FULL_TARGET} (measured: the load on a gateway started with them full)`, target: '< 512 MB', measured: `${n0(s.rssPeak / MB)} MB (${what}; ${s.sustained ? 'sustained' : 'not sustained'})`, met: s.rssPeak < 512 * MB && s.sustained };
}

/**
 * The RSS target once every history is full, estimated when it was not measured: the gateway's
 * peak under load, plus the logs at their caps, plus the trends of the vitals the load does not
 * send.
 */
function fullHistories(ward: SustainedResult | undefined, h: HistoriesResult | undefined): Target {
  const name = `${FULL_TARGET} (its peak + the NEWS2 and alarm logs at their caps + the trends of the vitals the load does not send)`;
  const caps = h?.fills.find((f) => f.news2 >= DEFAULT_MAX_NEWS2 && f.alarms >= DEFAULT_MAX_ALARMS);
  if (!ward || !h || !caps || h.patients < ward.devices) return { name, target: '< 512 MB', measured: 'not measured (needs the sustained load and the histories phase at as many patients)', met: undefined };
  const parts = [ward.rssPeak / MB, caps.logsMB, unsentTrendsMB(h)];
  const mb = parts.reduce((a, b) => a + b);
  return { name, target: '< 512 MB', measured: `${n0(mb)} MB (${parts.map(n0).join(' + ')})`, met: mb < 512 };
}

function table(head: string[], rows: string[][]): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

/** The results as README-ready markdown: a paragraph or table per phase that ran, then the targets. */
export function markdown(r: BenchResults): string {
  const sections = [machineLine(r), sustainedSection(r), ceilingSection(r.ceiling), spoolSection(r.spool), restartSection(r.restart), replaySection(r.replay), soakSection(r.soak), historiesSection(r.histories, r.sustained), targetsSection(r.targets)];
  return sections.filter((x): x is string => x !== undefined).join('\n\n');
}

function machineLine(r: BenchResults): string {
  const m = r.machine;
  return (
    `Measured ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC on ${m.cpus} × ${m.cpuModel}, ${n0(m.memoryMB / 1024)} GB, Node ${m.node}. ` +
    `Gateway, time-series server, ${r.clientProcesses} load-client processes and the alarm consumer share these cores.` +
    (r.influxBatchSize ? ` Gateway influx.batchSize: ${r.influxBatchSize}.` : '') +
    (r.gatewayNodeArgs.length > 0 ? ` Gateway node options: \`${r.gatewayNodeArgs.join(' ')}\`.` : '')
  );
}

const SUSTAINED_HEAD = ['devices', 'msg/s offered', 'msg/s acked', 'obs/s accepted', 'points/s written (a point a message)', 'writer lag at end', 'alarm latency p50 / p99 / max (ms)', 'RSS', 'RSS per device', 'CPU: gateway / clients / time-series', 'sustained'];

function sustainedRow(s: SustainedResult): string[] {
  const latency = `${n1(s.latencyMs.p50)} / ${n1(s.latencyMs.p99)} / ${n1(s.latencyMs.max)} (${s.latencyMs.samples})`;
  const cpu = `${n0(s.gatewayCpuPct)} / ${n0(s.clientsCpuPct)} / ${n0(s.victoriaCpuPct)} %`;
  return [`${n0(s.devices)}${s.historiesFull ? ', every history full' : ''}`, n0(s.offeredMsgPerS), n0(s.ackedMsgPerS), n0(s.obsPerS), n0(s.writtenPerS), n0(s.lagAtEnd), latency, `${n0(s.rssPeak / MB)} MB`, `${n1(s.rssPerDevice / 1024)} KB`, cpu, s.sustained ? 'yes' : 'no'];
}

function sustainedSection(r: BenchResults): string {
  return [
    '**Sustained load** (QoS 1, every message fsynced before PUBACK, all detectors on, 5 observations per message, the sensor state stored when it changes):',
    table(SUSTAINED_HEAD, r.sustained.map(sustainedRow)),
    'Sustained: at least 97 % of the offered messages acknowledged over the window and the time-series writer within 2 s of data at its end. ' +
      'Alarm latency: from the publish of the message that completes an alarm condition (a temperature over the limit, which has no persistence delay) ' +
      'to a nurse-call subscriber on `vigil/v1/alarms/#` receiving the raised alarm, MQTT delivery included; ' +
      `one device in ${r.sustained.map((s) => s.probeEvery).join(' / ')} (by load) is such a probe, enough for at least 1,100 alarms a window where there are devices enough; ` +
      'each percentile rests on the number of alarms in brackets.',
    'Every accepted observation was then found in the time-series server: ' + r.sustained.map((s) => `${n0(s.storedObs)} of ${n0(s.acceptedObs)}`).join(', ') + '.',
    ...(r.sustained.some((s) => s.historiesFull)
      ? [
          'A load marked *every history full* ran on a gateway started on a saved state whose station held, for each patient, every trended vital\'s 6-h trend and the NEWS2 and alarm logs at the counts given in the targets: ' +
            'the station as six hours into such a load, each alarm-state save writing all of it.',
        ]
      : []),
  ].join('\n\n');
}

function ceilingSection(c: CeilingResult | undefined): string | undefined {
  if (!c) return undefined;
  return [
    `**Ceiling** (${n0(c.devices)} clients, ${c.window} publishes in flight each, as fast as PUBACKs return; ${c.rounds.length === 1 ? 'one window each' : `${c.rounds.length} rounds of a window each, the medians`}):`,
    table(['broker', 'msg/s', 'obs/s', 'ratio'], [
      ['plain aedes (no hooks)', n0(c.aedesMsgPerS), '–', '1.00'],
      ['Vigil (auth, ACL, spool fsync, detectors, writer)', n0(c.vigilMsgPerS), n0(c.vigilObsPerS), c.ratio.toFixed(2)],
    ]),
    ...(c.rounds.length > 1 ? [`Rounds (plain aedes / Vigil msg/s, ratio): ${c.rounds.map((r) => `${n0(r.aedesMsgPerS)} / ${n0(r.vigilMsgPerS)}, ${r.ratio.toFixed(2)}`).join('; ')}.`] : []),
    `Vigil used ${n0(c.vigilCpuPct)} % of one core. Over the window its main thread spent ${n0(c.vigilGc.mainThreadPct)} % of the time in garbage collection: ` +
      `${n0(c.vigilGc.minorPerS)} scavenges and ${n1(c.vigilGc.majorPerS)} full collections a second (V8's helper threads work beside it, in the CPU figure). ` +
      `Its spool made ${n0(c.vigilSpool.groupsPerS)} groups durable a second, ${n0(c.vigilSpool.recordsPerGroup)} records each (a write and an fsync a group).`,
  ].join('\n\n');
}

function spoolSection(s: SpoolResult | undefined): string | undefined {
  if (!s) return undefined;
  return (
    `**Spool catch-up**: ${n0(s.devices)} devices × ${s.minutes} min of data ` +
    `(${n0(s.messages)} messages, ${n0(s.observations)} observations, ${n0(s.backlogRecords)} spool records) delivered in ${n1(s.fillS)} s with the time-series server down; ` +
    `written in ${n1(s.catchUpS)} s once it was back (${n0(s.catchUpObsPerS)} obs/s); ${n0(s.stored)} observations stored.`
  );
}

function restartSection(x: RestartResult | undefined): string | undefined {
  if (!x) return undefined;
  return (
    `**Restart**: a ${x.beds}-bed ward, ${x.hours} h in the spool (${n0(x.records)} records, ${n0(x.spoolBytes / MB)} MB; alarm state ${n1(x.stateBytes / MB)} MB), killed a minute after its last save: ` +
    `back in ${n0(x.comeBackMs)} ms (the alarm state ${x.restored ? 'restored' : 'NOT restored'} in ${n0(x.restoreMs)} ms, ${n0(x.replayed)} records replayed, ${x.activeAlarms} alarms shown again).`
  );
}

function replaySection(x: ReplayResult | undefined): string | undefined {
  if (!x) return undefined;
  return (
    `**Replay**: \`vigil replay\` of ${x.hours} h of ${x.patients} simulated patients ` +
    `(${n0(x.lines)} lines, ${n0(x.bytes / MB)} MB, ${n0(x.observations)} observations, ${n0(x.outputs)} NEWS2 changes and alarm transitions out) ` +
    `as a whole process: ${n1(x.seconds)} s, ${n0(x.obsPerS)} obs/s (best of its runs).`
  );
}

function soakSection(x: SoakResult | undefined): string | undefined {
  if (!x) return undefined;
  const at = (m: number): string => (x.rssMB[m] === undefined ? '' : `${n0(x.rssMB[m]!)} MB at ${m} min`);
  const marks = [0, 1, Math.round(x.minutes / 4), Math.round(x.minutes / 2), Math.round((3 * x.minutes) / 4), x.minutes].filter((m, i, a) => a.indexOf(m) === i);
  return (
    `**Soak**: ${n0(x.devices)} devices at 1 msg/s for ${x.minutes} min ` +
    `(${n0(x.acked)} messages acknowledged, ${x.publishErrors} errors, writer lag at most ${n0(x.maxLagRecords)} records): ` +
    `gateway RSS ${marks.map(at).filter(Boolean).join(', ')}; over the second half it grew ${x.slopeMBPerMin.toFixed(2)} MB/min.`
  );
}

function historiesSection(x: HistoriesResult | undefined, sustained: readonly SustainedResult[]): string | undefined {
  if (!x) return undefined;
  const ward = sustained.find((s) => s.devices === x.patients && !s.historiesFull);
  return (
    `**Histories full**, filled directly at ${n0(x.patients)} patients: the 6-h trends of all ${TRENDED_METRICS.length} trended vitals hold ${n0(x.trendsMB)} MB ` +
    `(each fixed-size from the patient's first value of that vital: under load the gateway already holds those of the ${WEARABLE_VITALS.length} the wearables send, ` +
    `and ${UNSENT_VITALS.join(', ')} would add ${n0(unsentTrendsMB(x))} MB); the NEWS2 and alarm logs hold ` +
    x.fills
      .map((f) => `${n0(f.logsMB)} MB with ${f.label} (${n0(f.news2)} NEWS2 changes, ${n0(f.alarms)} alarm transitions each)` + (ward ? `, ${n0(ward.rssPeak / MB + f.logsMB + unsentTrendsMB(x))} MB with the ${n0(ward.devices)}-device gateway's peak and those trends` : ''))
      .join('; ') +
    '.'
  );
}

function targetsSection(ts: readonly Target[]): string {
  const met = (t: Target): string => (t.met === undefined ? '–' : t.met ? 'yes' : 'no');
  return ['**Targets** (2 cores):', table(['target', 'goal', 'measured', 'met'], ts.map((t) => [t.name, t.target, t.measured, met(t)]))].join('\n\n');
}
