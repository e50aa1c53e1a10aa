/**
 * A simulated device: a profile's encoder driven by a patient model, on the device clock.
 * `generate(from, to)` is pure (same options → same chunks), which is what the determinism tests
 * and the benchmark rely on; the live runners only pace its output on real timers.
 */
import { hashUniform } from './rng.js';
import { PatientModel, type VitalSample } from './physiology.js';
import type { Scenario, TruthEvent } from './scenario.js';
import { createDatexEncoder } from './encoders/datex-s5.js';
import { createJsonCuffEncoder, createJsonWearableEncoder, obsTopic } from './encoders/json-v1.js';
import { createMasimoEncoder } from './encoders/masimo-radical7.js';
import { createNellcorEncoder } from './encoders/nellcor-n595.js';
import type { Encoder } from './encoders/types.js';

/** Device kinds the simulator can play. `json-v1-nibp` is a cuff that speaks the `json-v1` profile. */
export const SIM_PROFILES = ['masimo-radical7', 'nellcor-n595', 'datex-s5', 'json-v1', 'json-v1-nibp'] as const;
export type SimProfile = (typeof SIM_PROFILES)[number];

/** The serial kinds by the name of the profile that reads them, so both names can be given. */
export const SIM_PROFILE_BY_PROFILE_NAME: Readonly<Record<string, SimProfile>> = {
  'masimo-ascii1': 'masimo-radical7',
  'nellcor-n595-n560': 'nellcor-n595',
  'ge-datex-s5-dri': 'datex-s5',
};

export function isSimProfile(s: string): s is SimProfile {
  return (SIM_PROFILES as readonly string[]).includes(s);
}

/** The device kind for a simulator or profile name, or undefined. */
export function simProfileFor(name: string): SimProfile | undefined {
  if (isSimProfile(name)) return name;
  return Object.hasOwn(SIM_PROFILE_BY_PROFILE_NAME, name) ? SIM_PROFILE_BY_PROFILE_NAME[name] : undefined;
}

/** Default device clock at t = 0 for pure generation: fixed so golden output never moves. */
export const DEFAULT_START_EPOCH_MS = Date.UTC(2026, 2, 2, 8, 0, 0);

export interface SimDeviceOptions {
  /** Device id (MQTT username and topic segment; also seeds the serial number). */
  readonly id: string;
  readonly profile: SimProfile;
  readonly scenario: Scenario;
  readonly seed: number;
  /** Scenario seconds per device second; default the scenario's own (usually 1). */
  readonly timeScale?: number;
  /** Device clock at t = 0, epoch ms. Default DEFAULT_START_EPOCH_MS. */
  readonly startEpochMs?: number;
  /** `json-v1` wearables: seconds between publishes. Default 5. */
  readonly intervalS?: number;
  /** `datex-s5` and `json-v1-nibp`: seconds between cuff measurements. Default 300. */
  readonly nibpIntervalS?: number;
  /** Device seconds of the first cuff measurement. Default 30 (or the interval, if shorter). */
  readonly nibpFirstS?: number;
}

/** What a device does at one device time. */
export type SimChunk =
  | {
      readonly kind: 'data';
      /** Device seconds. */
      readonly t: number;
      /** Device clock, epoch ms. */
      readonly epochMs: number;
      /** One line, frame or MQTT payload. */
      readonly bytes: Buffer;
    }
  /** The cable is pulled (`unplug`) or put back (`replug`): the runner closes or reopens its end. */
  | { readonly kind: 'unplug' | 'replug'; readonly t: number };

export class SimDevice {
  readonly id: string;
  readonly profile: SimProfile;
  readonly patient: PatientModel;
  readonly encoder: Encoder;
  readonly startEpochMs: number;
  private readonly nibpIntervalS: number;
  private readonly nibpFirstS: number;

  constructor(readonly options: SimDeviceOptions) {
    this.id = options.id;
    this.profile = options.profile;
    this.startEpochMs = options.startEpochMs ?? DEFAULT_START_EPOCH_MS;
    this.patient = new PatientModel(options.scenario, { seed: options.seed, ...(options.timeScale ? { timeScale: options.timeScale } : {}) });
    this.nibpIntervalS = options.nibpIntervalS ?? 300;
    // The first cuff cycle runs shortly after the cuff is put on, as ward monitors do.
    this.nibpFirstS = options.nibpFirstS ?? Math.min(30, this.nibpIntervalS);
    this.encoder = makeEncoder(options, this.nibpIntervalS, this.nibpFirstS);
  }

  get scenario(): Scenario {
    return this.options.scenario;
  }

  /** MQTT topic for this device's publishes. */
  get topic(): string {
    return obsTopic(this.id);
  }

  /** Ground truth on the device clock (scenario-clock events divided by the time scale). */
  truth(): TruthEvent[] {
    const k = this.patient.timeScale;
    return this.scenario.groundTruth.map((e) =>
      e.clock === 'device'
        ? e
        : { ...e, clock: 'device' as const, onset: e.onset / k, ...(e.end !== undefined ? { end: e.end / k } : {}) },
    );
  }

  /** Device time of emission k, seconds. */
  emissionTime(k: number): number {
    return this.encoder.offsetS + k * this.encoder.periodS;
  }

  /** True while the cable is pulled at device time t. */
  unpluggedAt(t: number): boolean {
    return this.scenario.events.some((e) => e.type === 'unplug' && t >= e.at && t < e.at + e.duration);
  }

  /**
   * The units of emission k (lines, frames or payloads), already damaged where the scenario says
   * so; empty while unplugged.
   */
  emission(k: number): Buffer[] {
    const t = this.emissionTime(k);
    if (this.unpluggedAt(t)) return [];
    const sample = this.patient.sample(t);
    const nibp = this.nibpFor(k);
    const units = this.encoder.encode(sample, { epochMs: this.epochMsAt(t), index: k, ...(nibp ? { nibp } : {}) });
    const garbage = this.scenario.events.find((e) => e.type === 'garbage' && t >= e.at && t < e.at + e.duration);
    if (garbage && hashUniform(this.patient.seed, 'garbage', k) < garbage.probability) {
      return this.encoder.corrupt(units, (i) => hashUniform(this.patient.seed, 'garbage', k, i));
    }
    return units;
  }

  /** Device clock at device time t, epoch ms. */
  epochMsAt(t: number): number {
    return this.startEpochMs + Math.round(t * 1000);
  }

  /** Everything the device does in [from, to) device seconds, in time order. Pure. */
  *generate(from: number, to: number): Generator<SimChunk> {
    const edges: Array<{ t: number; kind: 'unplug' | 'replug' }> = [];
    for (const e of this.scenario.events) {
      if (e.type !== 'unplug') continue;
      if (e.at >= from && e.at < to) edges.push({ t: e.at, kind: 'unplug' });
      const back = e.at + e.duration;
      if (back >= from && back < to) edges.push({ t: back, kind: 'replug' });
    }
    edges.sort((a, b) => a.t - b.t);
    const { periodS, offsetS } = this.encoder;
    let k = Math.max(0, Math.ceil((from - offsetS) / periodS - 1e-9));
    let edge = 0;
    for (;;) {
      const t = this.emissionTime(k);
      const next = edges[edge];
      // A cable edge at the same instant as an emission happens first.
      if (next && (t >= to || next.t <= t)) {
        yield next;
        edge++;
        continue;
      }
      if (t >= to) return;
      for (const bytes of this.emission(k)) yield { kind: 'data', t, epochMs: this.epochMsAt(t), bytes };
      k++;
    }
  }

  /**
   * The cuff sample shown with emission k: the last measurement that finished at or before t(k)
   * (a monitor displays it until the next cycle), or none before the first.
   */
  private nibpFor(k: number): VitalSample | undefined {
    if (this.profile !== 'datex-s5') return undefined;
    const t = this.emissionTime(k);
    const j = Math.floor((t - this.nibpFirstS) / this.nibpIntervalS);
    if (j < 0) return undefined;
    return this.patient.sample(this.nibpFirstS + j * this.nibpIntervalS);
  }
}

function makeEncoder(o: SimDeviceOptions, nibpIntervalS: number, nibpFirstS: number): Encoder {
  switch (o.profile) {
    case 'masimo-radical7':
      // A stable, plausible serial number per device id.
      return createMasimoEncoder({ serialNumber: Math.floor(hashUniform(0, o.id) * 1e9) });
    case 'nellcor-n595':
      return createNellcorEncoder();
    case 'datex-s5':
      return createDatexEncoder();
    case 'json-v1':
      return createJsonWearableEncoder(o.intervalS !== undefined ? { intervalS: o.intervalS } : {});
    case 'json-v1-nibp':
      return createJsonCuffEncoder({ intervalS: nibpIntervalS, firstS: nibpFirstS });
  }
}
