/** What /proc says about a process the benchmark started, and who stops it if the benchmark ends early. */
import type { ChildProcess } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';

/** CPU time a process has used (user + system), ms; 0 once it is gone. */
export function cpuMsOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    // utime and stime are fields 14 and 15 of /proc/pid/stat (11 and 12 after the command name).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return 0;
  }
}

/** Children (and their scratch directories) to stop if the benchmark ends before it stops them. */
const owned = new Map<ChildProcess, string | undefined>();
let hooked = false;

/**
 * Kills `child` (and removes `dir`, when given) if this process exits, or is interrupted with
 * Ctrl-C or SIGTERM, while the child still runs: an interrupted `vigil bench` leaves no gateway
 * holding ports and memory behind.
 */
export function own(child: ChildProcess, dir?: string): void {
  if (!hooked) {
    hooked = true;
    const cleanUp = (): void => {
      for (const [c, d] of owned) {
        if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
        if (d !== undefined) rmSync(d, { recursive: true, force: true });
      }
      owned.clear();
    };
    process.once('exit', cleanUp);
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      process.once(signal, () => {
        process.stderr.write(`vigil bench: ${signal}, stopping what it started\n`);
        process.exit(code); // 'exit' runs cleanUp, and stops the time-series server
      });
    }
  }
  owned.set(child, dir);
  child.once('exit', () => owned.delete(child));
}
