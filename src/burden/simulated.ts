/**
 * Simulated recordings: firmware-sim patients turned into pipeline inputs exactly the way the live
 * gateway would see them.
 *
 * Each patient wears a `json-v1` wearable (and, by default, a `json-v1` NIBP cuff). Every payload
 * the simulated devices would publish goes through the gateway's own `Ingest` with the `json-v1`
 * profile: decoded into observations (quality from the sensor state), technical events for
 * `sensor` off/poor/ok, tagged with the patient's placement, stamped with the device clock (the
 * device's time is trusted, and received the instant it was sent). What `Ingest` hands its
 * listeners is what the live detectors get, in the same order.
 *
 * Written out with `formatInput`, the inputs are a recording that `vigil replay` reads.
 */
import { pino } from 'pino';
import { DEFAULT_START_EPOCH_MS, SimDevice } from '../../firmware-sim/device.js';
import { loadScenario, type Scenario, type TruthEvent } from '../../firmware-sim/scenario.js';
import { jsonV1Profile } from '../../devices/json-v1/index.js';
import { Counters } from '../core/counters.js';
import type { Frame, Placement } from '../core/types.js';
import { inputsOf, type PipelineInput } from '../alarms/pipeline.js';
import { Ingest } from '../ingest/ingest.js';

/** One simulated patient. */
export interface SimPatientSpec {
  readonly patientId: string;
  /** A built-in scenario name, a scenario file, or a loaded scenario. */
  readonly scenario: string | Scenario;
  readonly seed: number;
  readonly ward?: string;
  readonly bed?: string;
  /** Seconds between this patient's wearable publishes. Default: the recording's `intervalS`. */
  readonly intervalS?: number;
  /** Scenario seconds per device second. Default: the scenario's own (sepsis runs 60x). */
  readonly timeScale?: number;
  /** Give the patient an NIBP cuff too (systolic/diastolic/mean pressure). Default true. */
  readonly cuff?: boolean;
  /**
   * This patient's devices start this long after the ward's start, ms. Real devices are not in
   * step: offsets put their publishes, and the deadlines they set, at different instants.
   */
  readonly startOffsetMs?: number;
}

export interface SimulatedRecordingOptions {
  readonly patients: readonly SimPatientSpec[];
  /** Device seconds to simulate, from device time 0. */
  readonly durationS: number;
  /** Seconds between a wearable's publishes, unless a patient says otherwise. Default 5. */
  readonly intervalS?: number;
  /** Seconds between cuff measurements. Default 300. */
  readonly nibpIntervalS?: number;
  /** Device clock at time 0, epoch ms. Default: the simulator's fixed start. */
  readonly startEpochMs?: number;
}

/** A patient with the devices that watch them. */
export interface SimulatedPatient {
  readonly spec: SimPatientSpec;
  readonly placement: Placement & { readonly patientId: string };
  readonly wearable: SimDevice;
  readonly cuff?: SimDevice;
}

/** A truth event on the device clock, with its times as epoch ms. */
export interface TimedTruthEvent extends TruthEvent {
  /** epoch ms */
  readonly onsetMs: number;
  /** epoch ms, when the condition ended within the run */
  readonly endMs?: number;
}

/** Several simulated patients on one ward, over one stretch of device time. */
export class SimulatedRecording {
  readonly patients: readonly SimulatedPatient[];
  /** The ward's device clock at time 0, epoch ms. */
  readonly startEpochMs: number;
  readonly durationS: number;
  readonly intervalS: number;
  private readonly byDevice = new Map<string, Placement>();

  constructor(readonly options: SimulatedRecordingOptions) {
    this.startEpochMs = options.startEpochMs ?? DEFAULT_START_EPOCH_MS;
    this.durationS = options.durationS;
    this.intervalS = options.intervalS ?? 5;
    this.patients = options.patients.map((spec) => {
      const scenario = typeof spec.scenario === 'string' ? loadScenario(spec.scenario) : spec.scenario;
      const common = {
        scenario,
        seed: spec.seed,
        startEpochMs: this.startEpochMs + (spec.startOffsetMs ?? 0),
        ...(spec.timeScale !== undefined && { timeScale: spec.timeScale }),
        ...(options.nibpIntervalS !== undefined && { nibpIntervalS: options.nibpIntervalS }),
      };
      const placement = {
        patientId: spec.patientId,
        ...(spec.ward !== undefined && { ward: spec.ward }),
        ...(spec.bed !== undefined && { bed: spec.bed }),
      };
      const wearable = new SimDevice({ ...common, id: `wearable-${spec.patientId}`, profile: 'json-v1', intervalS: spec.intervalS ?? this.intervalS });
      this.byDevice.set(wearable.id, placement);
      if (spec.cuff === false) return { spec, placement, wearable };
      const cuff = new SimDevice({ ...common, id: `cuff-${spec.patientId}`, profile: 'json-v1-nibp' });
      this.byDevice.set(cuff.id, placement);
      return { spec, placement, wearable, cuff };
    });
  }

  /** When the last device stops, epoch ms. */
  get endEpochMs(): number {
    return Math.max(this.startEpochMs, ...this.patients.map((p) => p.wearable.startEpochMs)) + this.durationS * 1000;
  }

  /** The patient's ground truth that starts within the run, on the device clock. */
  truth(patientId: string): TimedTruthEvent[] {
    const p = this.patients.find((x) => x.placement.patientId === patientId);
    if (!p) return [];
    const start = p.wearable.startEpochMs;
    return p.wearable
      .truth()
      .filter((e) => e.onset < this.durationS)
      .map((e) => ({
        ...e,
        onsetMs: start + Math.round(e.onset * 1000),
        ...(e.end !== undefined && e.end < this.durationS && { endMs: start + Math.round(e.end * 1000) }),
      }));
  }

  /** Every MQTT payload the devices publish, as the broker hands frames to ingest, in time order. */
  *frames(): Generator<Frame> {
    const devices = this.patients.flatMap((p) => (p.cuff ? [p.wearable, p.cuff] : [p.wearable]));
    const heads = devices.map((d) => ({ d, it: d.generate(0, this.durationS), next: undefined as Frame | undefined }));
    const pull = (h: (typeof heads)[number]): void => {
      for (;;) {
        const r = h.it.next();
        if (r.done) {
          h.next = undefined;
          return;
        }
        const c = r.value;
        if (c.kind !== 'data') continue; // wearables have no cable to pull
        h.next = { transport: 'mqtt', deviceId: h.d.id, origin: h.d.topic, receivedAt: c.epochMs, payload: c.bytes };
        return;
      }
    };
    for (const h of heads) pull(h);
    for (;;) {
      // earliest frame first; devices keep their listed order at the same instant
      let best: (typeof heads)[number] | undefined;
      for (const h of heads) if (h.next && (!best || h.next.receivedAt < best.next!.receivedAt)) best = h;
      if (!best) return;
      yield best.next!;
      pull(best);
    }
  }

  /**
   * The pipeline inputs the live detectors would get: every frame through the gateway's `Ingest`
   * (json-v1 profile, device time trusted), in the order ingest delivers its records.
   */
  async *inputs(): AsyncGenerator<PipelineInput> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** The same inputs, one array per frame (cheaper to iterate over a long run). */
  async *batches(): AsyncGenerator<PipelineInput[]> {
    let seq = 0;
    const ingest = new Ingest({
      // nothing is kept: the records are only numbered, as a spool would
      spool: {
        appendThen: (payloads, _opts, done) => {
          const lastSeq = (seq += payloads.length);
          queueMicrotask(() => done(null, { lastSeq, next: { seq: lastSeq + 1, segment: 1, offset: 0 } }));
        },
      },
      placementOf: (d) => this.byDevice.get(d),
      counters: new Counters(),
      logger: pino({ level: 'silent' }),
    });
    let pending: PipelineInput[] = [];
    ingest.onRecords((records) => {
      for (const r of records) {
        pending.push(...inputsOf(r));
      }
    });
    for (const frame of this.frames()) {
      await ingest.accept(frame, jsonV1Profile, true);
      if (pending.length === 0) continue;
      yield pending;
      pending = [];
    }
  }

  /** All the inputs of the run, in order. */
  async all(): Promise<PipelineInput[]> {
    const out: PipelineInput[] = [];
    for await (const batch of this.batches()) for (const i of batch) out.push(i);
    return out;
  }
}
