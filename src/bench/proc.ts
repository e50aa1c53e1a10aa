/** What /proc says about a process the benchmark started. */
import { readFileSync } from 'node:fs';

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
