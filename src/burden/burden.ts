/**
 * Alarm burden: how many alarms a nurse would hear from Vigil and from a naive threshold alarm
 * (naive.ts) on the same simulated patient, and whether each true clinical event was alarmed and
 * how long after its onset.
 *
 * Each scenario is one simulated patient (a json-v1 wearable and an NIBP cuff, see simulated.ts)
 * over `hours` of device time. The same inputs go to Vigil's pipeline (the one the gateway runs)
 * and to the naive threshold. Vigil's count is every `raised` transition (a latched alarm whose
 * condition comes back sounds again and counts again); escalations are not counted.
 *
 * Matching an alarm to a true event (`SimDevice.truth()`, device time):
 * - a clinical event with a metric is covered by a limit alarm on that metric (`hr` also by the
 *   pulse rate, `pr`), and, for Vigil, by any NEWS2 or trend alarm: they are about the whole
 *   patient. A clinical event without a metric is covered by any physiological alarm;
 * - a technical event by the matching technical alarm (sensor off, poor signal, device offline or
 *   no data, battery low). The naive threshold watches values only: it has none;
 * - the event counts as alarmed when a covering alarm is shown at some time between its onset and
 *   its end (or the end of the run). The delay is that alarm's raise time minus the onset, and
 *   may be negative: the alarm came before the noise-free trend crossed the truth threshold (the
 *   measured values are noisy) or was already showing for an earlier part of the same event.
 */
import type { AlarmKind, AlarmPriority, AlarmTransition, MetricName } from '../core/types.js';
import type { DetectorConfig } from '../detectors/config.js';
import { Pipeline } from '../alarms/pipeline.js';
import { alarmCriterion, type Criterion } from './criterion.js';
import { NaiveThreshold } from './naive.js';
import { SimulatedRecording, type TimedTruthEvent } from './simulated.js';

/** The scenarios `vigil burden` compares by default. */
export const BURDEN_SCENARIOS = ['stable', 'artifact-storm', 'desaturation', 'sepsis', 'brady', 'sensor-off'] as const;

export interface BurdenOptions {
  readonly config: DetectorConfig;
  /** Hours of device time per scenario. */
  readonly hours: number;
  /** Seed of the simulated patient. */
  readonly seed: number;
  /** Seconds between wearable publishes. Default 5. */
  readonly intervalS?: number;
}

/** Alarms raised, by kind and priority. */
export interface AlarmCount {
  readonly kind: AlarmKind;
  readonly priority: AlarmPriority;
  readonly count: number;
  /** Technical alarms: how many of each condition (`sensor_poor`, `signal_loss`…). */
  readonly conditions?: Readonly<Record<string, number>>;
}

/** The first alarm that covered a true event. */
export interface Detection {
  /** Seconds from the event's onset to the alarm's raise, device time (negative: before onset). */
  readonly delayS: number;
  /** What alarmed, e.g. `limit spo2 medium`, `news2 high`, `technical sensor_off medium`. */
  readonly alarm: string;
}

/** One true event and how each alarm system did on it. */
export interface EventOutcome {
  readonly name: string;
  readonly kind: 'clinical' | 'technical';
  readonly metric?: string;
  /** Device seconds since the start of the run. */
  readonly onsetS: number;
  readonly endS?: number;
  /**
   * Clinical events: when the noise-free scenario first met an alarm criterion covering the event
   * (criterion.ts); null when it never did within the event. Absent for technical events.
   */
  readonly criterion?: Criterion | null;
  /** null: not alarmed. */
  readonly vigil: Detection | null;
  /** null: not alarmed; 'n/a': the naive threshold has no such alarm (technical events). */
  readonly naive: Detection | null | 'n/a';
}

export interface ScenarioBurden {
  readonly scenario: string;
  readonly hours: number;
  readonly seed: number;
  /** Scenario seconds per device second (sepsis runs compressed). */
  readonly timeScale: number;
  readonly naive: { readonly total: number; readonly high: number; readonly medium: number };
  readonly vigil: {
    readonly total: number;
    /** limit, NEWS2 and trend alarms */
    readonly physiological: number;
    readonly technical: number;
    readonly byKind: readonly AlarmCount[];
  };
  readonly events: readonly EventOutcome[];
}

/** A shown alarm, from raise to the end of its condition. */
interface Episode {
  readonly label: string;
  readonly kind: AlarmKind;
  readonly metric?: MetricName;
  /** technical condition, e.g. `sensor_off` */
  readonly condition?: string;
  readonly raisedAt: number;
  endAt?: number;
}

const PATIENT = 'P1';

/** Runs one scenario through Vigil and the naive threshold. */
export async function scenarioBurden(scenario: string, opts: BurdenOptions): Promise<ScenarioBurden> {
  const rec = new SimulatedRecording({
    durationS: Math.round(opts.hours * 3600),
    intervalS: opts.intervalS ?? 5,
    patients: [{ patientId: PATIENT, scenario, seed: opts.seed, ward: 'sim', bed: '1' }],
  });
  const pipeline = new Pipeline(opts.config);
  const naive = new NaiveThreshold(opts.config);
  const episodes: Episode[] = [];
  const open = new Map<string, Episode>();
  const counts = new Map<string, number>();
  const conditions = new Map<string, Record<string, number>>();
  const take = (a: AlarmTransition): void => {
    if (a.state === 'raised') {
      const k = `${a.kind}\t${a.priority}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
      const condition = a.kind === 'technical' ? technicalCondition(a.id) : undefined;
      if (condition !== undefined) {
        const c = conditions.get(k) ?? {};
        c[condition] = (c[condition] ?? 0) + 1;
        conditions.set(k, c);
      }
      const label = [a.kind, a.metric ?? condition, a.priority].filter((x) => x !== undefined).join(' ');
      const e: Episode = { label, kind: a.kind, raisedAt: a.ts, ...(a.metric !== undefined && { metric: a.metric }), ...(condition !== undefined && { condition }) };
      open.set(a.id, e);
      episodes.push(e);
    } else if (a.state === 'cleared' || a.state === 'resolved') {
      const e = open.get(a.id);
      if (e) e.endAt = a.ts;
      open.delete(a.id);
    }
  };
  for await (const batch of rec.batches()) {
    for (const input of batch) {
      naive.push(input);
      for (const o of pipeline.push(input)) if (o.type === 'alarm') take(o.alarm);
    }
  }

  const byKind: AlarmCount[] = [...counts]
    .map(([k, count]) => {
      const [kind, priority] = k.split('\t') as [AlarmKind, AlarmPriority];
      const c = conditions.get(k);
      return { kind, priority, count, ...(c !== undefined && { conditions: c }) };
    })
    .sort((a, b) => KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) || PRIO_ORDER.indexOf(a.priority) - PRIO_ORDER.indexOf(b.priority));
  const sum = (f: (c: AlarmCount) => boolean): number => byKind.filter(f).reduce((n, c) => n + c.count, 0);
  const naiveEpisodes: Episode[] = naive.alarms.map((a) => ({
    label: `limit ${a.metric} ${a.priority}`,
    kind: 'limit',
    metric: a.metric,
    raisedAt: a.raisedAt,
    ...(a.endAt !== undefined && { endAt: a.endAt }),
  }));
  const { wearable, cuff } = rec.patients[0]!;
  const start = wearable.startEpochMs;
  const events = rec.truth(PATIENT).map((ev): EventOutcome => ({
    name: ev.name,
    kind: ev.kind,
    ...(ev.metric !== undefined && { metric: ev.metric }),
    onsetS: (ev.onsetMs - start) / 1000,
    ...(ev.endMs !== undefined && { endS: (ev.endMs - start) / 1000 }),
    ...(ev.kind === 'clinical' && {
      criterion: alarmCriterion(wearable.patient, opts.config, ev.metric, ev.onset, Math.min(ev.end ?? rec.durationS, rec.durationS), cuff !== undefined),
    }),
    vigil: detect(ev, episodes, rec.endEpochMs, true),
    naive: ev.kind === 'technical' ? 'n/a' : detect(ev, naiveEpisodes, rec.endEpochMs, false),
  }));
  return {
    scenario: wearable.scenario.name,
    hours: opts.hours,
    seed: opts.seed,
    timeScale: wearable.patient.timeScale,
    naive: {
      total: naive.alarms.length,
      high: naive.alarms.filter((a) => a.priority === 'high').length,
      medium: naive.alarms.filter((a) => a.priority === 'medium').length,
    },
    vigil: { total: sum(() => true), physiological: sum((c) => c.kind !== 'technical'), technical: sum((c) => c.kind === 'technical'), byKind },
    events,
  };
}

/** Runs several scenarios, one after the other. */
export async function alarmBurden(scenarios: readonly string[], opts: BurdenOptions): Promise<ScenarioBurden[]> {
  const out: ScenarioBurden[] = [];
  for (const s of scenarios) out.push(await scenarioBurden(s, opts));
  return out;
}

const KIND_ORDER: readonly AlarmKind[] = ['limit', 'news2', 'trend', 'technical'];
const PRIO_ORDER: readonly AlarmPriority[] = ['high', 'medium', 'low'];

/** Technical alarms a scenario's technical truth event is reported by. */
const TECHNICAL_FOR: Record<string, readonly string[]> = {
  'sensor-off': ['sensor_off'],
  'sensor-poor': ['sensor_poor'],
  unplug: ['device_offline', 'signal_loss'],
};

/** `P1:technical:wearable-P1:sensor_off:2` → `sensor_off` */
function technicalCondition(id: string): string | undefined {
  return id.split(':').at(-2);
}

function covers(ev: TimedTruthEvent, e: Episode, vigil: boolean): boolean {
  if (ev.kind === 'technical') {
    const wanted = ev.metric === 'battery' ? ['battery_low'] : (TECHNICAL_FOR[ev.name] ?? []);
    return e.kind === 'technical' && e.condition !== undefined && wanted.includes(e.condition);
  }
  if (e.kind === 'technical') return false;
  if (vigil && (e.kind === 'news2' || e.kind === 'trend')) return true;
  if (ev.metric === undefined) return true;
  return e.metric === ev.metric || (ev.metric === 'hr' && e.metric === 'pr');
}

/** The first covering alarm shown between the event's onset and its end (or the run's). */
function detect(ev: TimedTruthEvent, episodes: readonly Episode[], runEnd: number, vigil: boolean): Detection | null {
  const until = ev.endMs ?? runEnd;
  const hit = episodes.find((e) => covers(ev, e, vigil) && e.raisedAt <= until && (e.endAt === undefined || e.endAt >= ev.onsetMs));
  return hit ? { delayS: (hit.raisedAt - ev.onsetMs) / 1000, alarm: hit.label } : null;
}
