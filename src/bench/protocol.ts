/**
 * What the benchmark's parent process and its load-client processes say to each other over the
 * IPC channel, and the wearable payloads the clients send.
 */

/** Names and secrets are derived, so a client needs only an index range. */
export function benchDeviceId(i: number): string {
  return `bd-${String(i).padStart(5, '0')}`;
}

/** The plain-text secret of bench device i (the bench configures the gateway with it). */
export function benchSecret(i: number): string {
  return `bench-secret-${i}-vigil`;
}

export interface LoadPlan {
  readonly host: string;
  readonly port: number;
  /** Devices [first, first + count). */
  readonly first: number;
  readonly count: number;
  /**
   * `paced`: each device publishes `ratePerDevice` messages/s, staggered evenly.
   * `max`: each device keeps `window` publishes in flight, as fast as PUBACKs come back.
   */
  readonly mode: 'paced' | 'max';
  /** messages/s per device (paced). */
  readonly ratePerDevice: number;
  /** Publishes in flight per device (max). */
  readonly window: number;
  /** Every device whose index is a multiple of this is a latency probe (0: none). */
  readonly probeEvery: number;
  /**
   * Device clock of message k, when set: `deviceStartMs + k * deviceStepMs` (a backlog of past
   * data). Otherwise the wall clock at publish.
   */
  readonly deviceStartMs?: number;
  readonly deviceStepMs?: number;
  /** Stop each device after this many messages (0: unbounded). */
  readonly maxMessagesPerDevice: number;
  /** Connections opened at once per client process. */
  readonly connectConcurrency: number;
}

/** Cumulative counters of one client process. */
export interface LoadStats {
  readonly connected: number;
  readonly connectFailures: number;
  readonly published: number;
  readonly acked: number;
  readonly errors: number;
  /** Devices that finished `maxMessagesPerDevice` with every publish settled. */
  readonly finished: number;
}

export type ToClient =
  | { readonly type: 'plan'; readonly plan: LoadPlan }
  | { readonly type: 'go' }
  | { readonly type: 'snapshot'; readonly tag: number }
  | { readonly type: 'stop' };

export type FromClient =
  | { readonly type: 'connected'; readonly stats: LoadStats }
  | { readonly type: 'snapshot'; readonly tag: number; readonly stats: LoadStats }
  /** A probe published the message that completes an alarm condition, at `at` epoch ms. */
  | { readonly type: 'probe'; readonly device: number; readonly at: number }
  | { readonly type: 'stopped'; readonly stats: LoadStats };

/** Epoch ms with sub-millisecond resolution, comparable across processes on one machine. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Messages in one probe cycle: one breach, one recovery, the rest normal (longer than the flap hold). */
export const PROBE_CYCLE = 15;
/** Message index within a cycle that carries the breach. */
export const PROBE_BREACH_AT = 5;

/**
 * The payload of device i's message k: a wearable's vitals, battery and sensor state (5
 * observations and one sensor event). A probe's breach message carries a temperature over the
 * high limit, which has no persistence delay, so that message alone raises the alarm.
 */
export function wearablePayload(i: number, k: number, ts: number, probe: boolean): Buffer {
  const j = (i * 7 + k) % 5;
  let temp = 36.6 + j * 0.1;
  if (probe) {
    const c = k % PROBE_CYCLE;
    if (c === PROBE_BREACH_AT) temp = 39.5;
  }
  return Buffer.from(`{"ts":${Math.round(ts)},"obs":{"hr":${70 + j},"spo2":${96 + (j % 3)},"rr":${14 + (j % 3)},"temp":${temp.toFixed(1)}},"battery":${80 + (i % 20)},"sensor":"ok"}`);
}

/** The vitals in each wearable payload (the station trends each from its first value). */
export const WEARABLE_VITALS = ['hr', 'spo2', 'rr', 'temp'] as const;

/** Observations in each wearable payload (hr, spo2, rr, temp, battery). */
export const OBS_PER_MESSAGE = 5;
