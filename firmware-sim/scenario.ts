/**
 * Scenario files: a patient's baseline, how it changes over time, measurement artifacts and
 * technical events, plus the ground truth a benchmark scores the gateway against. The format is
 * documented in firmware-sim/README.md. Built-in scenarios live in firmware-sim/scenarios/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../src/core/errors.js';
import { PARAMS, Trend, type Param, type Ramp } from './trend.js';

const nonNeg = z.number().min(0);
const range = z
  .tuple([nonNeg, nonNeg])
  .refine(([a, b]) => a <= b, 'first value must not exceed the second');

const baselineSchema = z.strictObject({
  /** beats per minute */
  hr: z.number().min(20).max(250).default(75),
  /** % */
  spo2: z.number().min(50).max(100).default(97),
  /** breaths per minute */
  rr: z.number().min(4).max(60).default(15),
  /** °C */
  temp: z.number().min(30).max(43).default(36.8),
  /** mmHg */
  sbp: z.number().min(40).max(260).default(124),
  /** mmHg */
  dbp: z.number().min(20).max(160).default(78),
  /** perfusion index, % */
  pi: z.number().min(0.02).max(20).default(3),
  /** device battery, % */
  battery: z.number().min(0).max(100).default(90),
});

const phaseSchema = z.strictObject({
  param: z.enum(PARAMS),
  at: nonNeg,
  duration: nonNeg.default(0),
  target: z.number(),
  shape: z.enum(['linear', 'sigmoid', 'step']).default('linear'),
});

const artifactSchema = z.strictObject({
  /** Mean number of motion dips per hour of device time (Poisson). */
  ratePerHour: nonNeg.default(2),
  /** Seconds each dip lasts. */
  duration: range.default([3, 8]),
  /** Percentage points the displayed SpO2 falls below the true value. */
  depth: range.default([4, 12]),
  /** Chance the device flags a dip as poor signal; the rest look like real readings. */
  poorProbability: z.number().min(0).max(1).default(0.5),
  /** Device seconds during which dips occur (default: always). */
  from: nonNeg.default(0),
  until: nonNeg.optional(),
});

const eventSchema = z.strictObject({
  type: z.enum(['sensor-off', 'sensor-poor', 'unplug', 'garbage']),
  /** Device seconds. */
  at: nonNeg,
  /** Seconds the condition lasts. */
  duration: z.number().positive(),
  /** For `garbage`: chance that any one output unit is corrupted or followed by junk. */
  probability: z.number().min(0).max(1).default(0.25),
});

const truthSchema = z
  .strictObject({
    name: z.string().min(1),
    metric: z.enum(PARAMS).optional(),
    /** Explicit onset, scenario seconds. */
    at: nonNeg.optional(),
    /** Explicit end, scenario seconds. */
    end: nonNeg.optional(),
    /** Onset is when the noise-free trend first goes below this value. */
    below: z.number().optional(),
    /** Onset is when the noise-free trend first goes above this value. */
    above: z.number().optional(),
    description: z.string().optional(),
  })
  .superRefine((t, ctx) => {
    const ways = [t.at, t.below, t.above].filter((v) => v !== undefined).length;
    if (ways !== 1) ctx.addIssue({ code: 'custom', message: 'give exactly one of at, below, above' });
    if ((t.below !== undefined || t.above !== undefined) && t.metric === undefined) {
      ctx.addIssue({ code: 'custom', path: ['metric'], message: 'required with below/above' });
    }
  });

export const scenarioSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  description: z.string().default(''),
  /** Suggested run length, scenario seconds. */
  duration: z.number().positive().default(1800),
  /** Default scenario seconds per device second, when the runner does not set one. */
  timeScale: z.number().positive().default(1),
  baseline: baselineSchema.default(baselineSchema.parse({})),
  /** Respiratory sinus arrhythmia: peak-to-peak swing of HR over one breath, beats per minute. */
  rsa: nonNeg.default(4),
  phases: z.array(phaseSchema).default([]),
  artifacts: artifactSchema.default(artifactSchema.parse({})),
  events: z.array(eventSchema).default([]),
  truth: z.array(truthSchema).default([]),
});

export type ScenarioSpec = z.output<typeof scenarioSchema>;
export type TechnicalEventSpec = ScenarioSpec['events'][number];

/** A true event the gateway should notice, for scoring detection delay. */
export interface TruthEvent {
  readonly name: string;
  /** What kind of alarm the event should cause. */
  readonly kind: 'clinical' | 'technical';
  /**
   * Which clock `onset`/`end` are on: `scenario` (trend-derived, compressed by the time scale:
   * device seconds = scenario seconds / timeScale) or `device` (technical events, never compressed).
   */
  readonly clock: 'scenario' | 'device';
  readonly metric?: Param;
  /** Seconds since start on `clock`. */
  readonly onset: number;
  /** When the condition ended, if it did within the scenario. */
  readonly end?: number;
  readonly description?: string;
}

/** A validated scenario with its trend and ground truth worked out. */
export interface Scenario extends ScenarioSpec {
  /** File the scenario came from, or `builtin:NAME`. */
  readonly source: string;
  readonly trend: Trend;
  readonly groundTruth: readonly TruthEvent[];
}

function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

/**
 * Parses and validates scenario YAML.
 * @throws ConfigError whose issues read `path: message`, e.g. `phases[1].target: …`.
 */
export function parseScenario(text: string, source: string): Scenario {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  const result = scenarioSchema.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `${formatPath(i.path)}: unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => `"${k}"`).join(', ')}`
        : `${formatPath(i.path)}: ${i.message}`,
    );
    throw new ConfigError(`${source}: ${issues.join('; ')}`, issues);
  }
  const spec = result.data;
  const trend = new Trend(spec.baseline, spec.phases as Ramp[]);
  return { ...spec, source, trend, groundTruth: computeTruth(spec, trend) };
}

function computeTruth(spec: ScenarioSpec, trend: Trend): TruthEvent[] {
  const out: TruthEvent[] = [];
  for (const t of spec.truth) {
    const kind = t.metric === 'battery' ? ('technical' as const) : ('clinical' as const);
    const base = { name: t.name, kind, clock: 'scenario' as const, ...(t.metric ? { metric: t.metric } : {}), ...(t.description ? { description: t.description } : {}) };
    if (t.at !== undefined) {
      out.push({ ...base, onset: t.at, ...(t.end !== undefined ? { end: t.end } : {}) });
      continue;
    }
    const metric = t.metric as Param;
    const inside = t.below !== undefined ? (v: number) => v < (t.below as number) : (v: number) => v > (t.above as number);
    const onset = trend.firstTime(metric, inside, 0, spec.duration);
    if (onset === undefined) continue; // The trend never crosses: nothing to detect.
    const end = trend.firstTime(metric, (v) => !inside(v), onset, spec.duration);
    out.push({ ...base, onset, ...(end !== undefined ? { end } : {}) });
  }
  for (const e of spec.events) {
    if (e.type === 'garbage') continue; // Not a condition a nurse should hear about.
    out.push({ name: e.type, kind: 'technical', clock: 'device', onset: e.at, end: e.at + e.duration });
  }
  return out.sort((a, b) => a.onset - b.onset);
}

/** Directory of the built-in scenarios, from source or from the compiled output in dist/. */
export function builtinScenarioDir(): string {
  const candidates = [
    fileURLToPath(new URL('./scenarios/', import.meta.url)),
    fileURLToPath(new URL('../../firmware-sim/scenarios/', import.meta.url)),
  ];
  for (const dir of candidates) if (existsSync(dir)) return dir;
  throw new ConfigError(`built-in scenarios not found (looked in ${candidates.join(', ')})`);
}

/** Names of the built-in scenarios, sorted. */
export function builtinScenarioNames(): string[] {
  return readdirSync(builtinScenarioDir())
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => basename(f, '.yaml'))
    .sort();
}

/**
 * Loads a built-in scenario by name, or a scenario file by path.
 * @throws ConfigError when neither exists or the file is invalid.
 */
export function loadScenario(nameOrPath: string): Scenario {
  if (/^[a-z0-9-]+$/.test(nameOrPath)) {
    const file = join(builtinScenarioDir(), `${nameOrPath}.yaml`);
    if (existsSync(file)) return parseScenario(readFileSync(file, 'utf8'), `builtin:${nameOrPath}`);
  }
  if (existsSync(nameOrPath)) return parseScenario(readFileSync(nameOrPath, 'utf8'), nameOrPath);
  throw new ConfigError(
    `unknown scenario "${nameOrPath}": not a built-in (${builtinScenarioNames().join(', ')}) and no such file`,
  );
}

/** Every built-in scenario, for `vigil sim --list-scenarios`. */
export function listScenarios(): Array<{ name: string; description: string }> {
  return builtinScenarioNames().map((n) => {
    const s = loadScenario(n);
    return { name: s.name, description: s.description };
  });
}
