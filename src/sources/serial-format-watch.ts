/**
 * Watches one serial port for a device that speaks another format than its profile (the wrong
 * profile in the config, or the device set to another output mode or line speed). Every frame is
 * still rejected and counted by ingest; this turns a run of them into one technical event.
 */

/** Rejected frames in a row, with no good one between, that mean the format does not match. */
export const FORMAT_MISMATCH_AFTER = 10;

/** Rejection reasons that say nothing about the format: the frame was read, its value was not plausible. */
const NOT_FORMAT = new Set(['implausible_value']);

export interface FormatWatchEvents {
  /** Once per episode, with the profile and the last reason. */
  mismatch(detail: string): void;
  /** A frame decoded again after a mismatch was reported. */
  matched(): void;
}

/** Counts rejected frames in a row; a good frame ends the run. Pure apart from its callbacks. */
export class FormatWatch {
  #run = 0;
  #reported = false;

  constructor(
    private readonly profile: string,
    private readonly events: FormatWatchEvents,
    private readonly threshold = FORMAT_MISMATCH_AFTER,
  ) {}

  /** True while a mismatch has been reported and no good frame has come since. */
  get mismatched(): boolean {
    return this.#reported;
  }

  /** One frame or framing error: `null` when it decoded, else the reason it was rejected. */
  frame(rejectedFor: string | null): void {
    if (rejectedFor === null) {
      this.#run = 0;
      if (this.#reported) {
        this.#reported = false;
        this.events.matched();
      }
      return;
    }
    if (NOT_FORMAT.has(rejectedFor)) return;
    this.#run += 1;
    if (this.#run === this.threshold && !this.#reported) {
      this.#reported = true;
      this.events.mismatch(`${this.#run} frames in a row are not ${this.profile} (last: ${rejectedFor}); check the port's profile and the device's output setting`);
    }
  }
}
