import { log } from '../core/log.js';

/**
 * Waits for SIGTERM or SIGINT, then runs `stop` once. A second signal while stopping forces
 * exit 1 (data already acknowledged is on disk either way: the spool fsyncs before each PUBACK).
 */
export function runUntilSignal(stop: () => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        log().warn({ signal }, 'second signal while stopping: exiting now');
        process.exit(1);
      }
      stopping = true;
      log().info({ signal }, 'stopping: no new data accepted, flushing');
      stop().then(
        () => {
          log().info('stopped cleanly');
          resolve(0);
        },
        (err: Error) => {
          log().error({ err: err.message }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}
