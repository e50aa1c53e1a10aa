/**
 * Child processes a test file starts (gateways, servers, socat) die with it: a test that fails or
 * times out before its cleanup, or a worker that is torn down, must not leave them running on
 * the machine. Each child handed to `track` (or whose pid `trackPid` can read) is killed when this
 * process exits or is terminated.
 */
import type { ChildProcess } from 'node:child_process';

/** Each tracked child's current pid (undefined once it has exited). */
const live = new Set<() => number | undefined>();
let hooked = false;

function hook(): void {
  if (hooked) return;
  hooked = true;
  const killAll = (): void => {
    for (const pid of live) {
      const p = pid();
      if (p === undefined) continue;
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', killAll);
  // The test runner ends its workers with SIGTERM, which skips 'exit': do what it would do,
  // after the children are gone.
  process.once('SIGTERM', () => {
    killAll();
    process.exit(143);
  });
}

/** Kills `child` (SIGKILL) at this process's exit unless it has exited by then. */
export function track<T extends ChildProcess>(child: T): T {
  hook();
  const pid = (): number | undefined => (child.exitCode === null && child.signalCode === null ? child.pid : undefined);
  live.add(pid);
  child.once('exit', () => live.delete(pid));
  return child;
}

/** Like `track`, for a server that restarts its own process: `pid` reads the current one. */
export function trackPid(pid: () => number | undefined): void {
  hook();
  live.add(pid);
}
