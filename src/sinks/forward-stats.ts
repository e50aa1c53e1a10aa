/** What a forwarder reports: its state, counters and send latency, shaped for health and Prometheus. */

/** Upper bounds of the write-latency buckets, in ms (Prometheus `le`). */
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000] as const;

/** A cumulative histogram: `counts[i]` is the number of samples ≤ `bucketsMs[i]`. */
export interface LatencyHistogram {
  readonly bucketsMs: readonly number[];
  readonly counts: readonly number[];
  /** Sum of all samples, in ms. */
  readonly sumMs: number;
  /** Number of samples (the `+Inf` bucket). */
  readonly count: number;
}

/** `starting` until the loop runs; `sending` while a send is in flight. */
export type ForwarderState = 'starting' | 'idle' | 'sending' | 'backing_off' | 'stopped';

export interface ForwarderStats {
  readonly state: ForwarderState;
  /** Epoch ms of the last confirmed send. */
  readonly lastSuccessAt?: number;
  /** Reason of the most recent failure, kept after recovery for diagnosis. */
  readonly lastError?: string;
  /** Batches committed to the cursor. */
  readonly batches: number;
  /** Items the destination confirmed (an item sent again during bisection counts again). */
  readonly sent: number;
  /** Failed sends that were retried. */
  readonly retries: number;
  /** Failures of any kind: sends, connections, spool or dead-letter I/O. */
  readonly failures: number;
  /** Records and items written to the dead-letter file. */
  readonly deadLetters: number;
  /** Records that could not be encoded. */
  readonly unencodable: number;
  /** Duration of the last confirmed send, in ms. */
  readonly lastLatencyMs: number;
  readonly latency: LatencyHistogram;
  /** Records appended to the spool but not yet committed by this forwarder. */
  readonly lagRecords: number;
}

/** The state the InfluxDB writer and the webhook report (health `influx.state`). */
export type WriterState = 'idle' | 'writing' | 'backing_off' | 'stopped';

const WRITER_STATE: Readonly<Record<ForwarderState, WriterState>> = { starting: 'idle', idle: 'idle', sending: 'writing', backing_off: 'backing_off', stopped: 'stopped' };

/** A forwarder's state in the words the HTTP forwarders have always reported. */
export function writerState(state: ForwarderState): WriterState {
  return WRITER_STATE[state];
}

export interface WriterStats {
  readonly state: WriterState;
  /** Epoch ms of the last 2xx. */
  readonly lastSuccessAt?: number;
  /** Message of the most recent failure, kept after recovery for diagnosis. */
  readonly lastError?: string;
  /** Batches committed to the spool. */
  readonly batches: number;
  /** Points the database accepted (a point rewritten during bisection counts again). */
  readonly pointsWritten: number;
  /** Failed requests that were retried. */
  readonly retries: number;
  /** Records sent to the dead-letter file. */
  readonly deadLetters: number;
  /** Duration of the last successful request, in ms. */
  readonly lastWriteLatencyMs: number;
  /** Records appended to the spool but not yet committed by this writer. */
  readonly lagRecords: number;
  /** Latency of successful requests. */
  readonly latency: LatencyHistogram;
}

/** Accumulates latency samples into {@link LATENCY_BUCKETS_MS}. */
export class LatencyRecorder {
  readonly #counts = LATENCY_BUCKETS_MS.map(() => 0);
  #sum = 0;
  #count = 0;

  /** @param ms one request's duration, in ms. */
  observe(ms: number): void {
    this.#sum += ms;
    this.#count += 1;
    LATENCY_BUCKETS_MS.forEach((le, i) => {
      if (ms <= le) this.#counts[i] = (this.#counts[i] ?? 0) + 1;
    });
  }

  snapshot(): LatencyHistogram {
    return { bucketsMs: [...LATENCY_BUCKETS_MS], counts: [...this.#counts], sumMs: this.#sum, count: this.#count };
  }
}
