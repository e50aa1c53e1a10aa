/** Counters and a latency histogram for the InfluxDB writer, shaped for Prometheus export. */

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

export type WriterState = 'idle' | 'writing' | 'backing_off' | 'stopped';

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
