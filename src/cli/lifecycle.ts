import { log } from '../core/log.js';

/** SIGTERM and SIGINT as a long-running command takes them (see `takeSignals`). */
export interface TakenSignals {
  /** Resolves with the first signal. */
  readonly first: Promise<NodeJS.Signals>;
  /**
   * Runs `stop` once on the first signal (at once, if it came while the command was starting),
   * and resolves with the exit code: 0, or 1 when stopping failed. A second signal while
   * stopping forces exit 1 (data already acknowledged is on disk either way: the spool fsyncs
   * before each PUBACK).
   */
  runUntilSignal(stop: () => Promise<void>): Promise<number>;
  /** Gives the signals back to node's default handling. */
  release(): void;
}

/**
 * Takes SIGTERM and SIGINT from now on. Called before a command starts anything or prints a
 * line: Ctrl-C while it starts (or the moment its first line shows) then stops it once it has
 * started, cleanly, rather than killing it half-started by node's default handling.
 */
export function takeSignals(): TakenSignals {
  let stopping = false;
  let onFirst!: (signal: NodeJS.Signals) => void;
  const first = new Promise<NodeJS.Signals>((resolve) => (onFirst = resolve));
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      log().warn({ signal }, 'second signal while stopping: exiting now');
      process.exit(1);
    }
    // a signal after the first one while starting: `first` keeps the first
    onFirst(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    first,
    runUntilSignal: (stop) =>
      first.then((signal) => {
        stopping = true;
        log().info({ signal }, 'stopping: no new data accepted, flushing');
        return stop().then(
          () => {
            log().info('stopped cleanly');
            return 0;
          },
          (err: Error) => {
            log().error({ err: err.message }, 'error while stopping');
            return 1;
          },
        );
      }),
    release: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}
