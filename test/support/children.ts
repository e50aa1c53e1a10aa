/**
 * Child processes a test file starts (gateways, servers, socat) die with it: a test that fails or
 * times out before its cleanup, or a worker that is torn down, must not leave them running on
 * the machine. Each child handed to `track` is killed when this process exits or is terminated.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let hooked = false;

/** Kills `child` (SIGKILL) at this process's exit unless it has exited by then. */
export function track<T extends ChildProcess>(child: T): T {
  if (!hooked) {
    hooked = true;
    const killAll = (): void => {
      for (const c of live) c.kill('SIGKILL');
    };
    process.once('exit', killAll);
    // The test runner ends its workers with SIGTERM, which skips 'exit': do what it would do,
    // after the children are gone.
    process.once('SIGTERM', () => {
      killAll();
      process.exit(143);
    });
  }
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}
