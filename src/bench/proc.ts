/** The benchmark's child processes: running a script to its end, what /proc says of one, and who stops them if the benchmark ends early. */
import { execFile, type ChildProcess, type ExecFileOptions } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** `vigil`'s entry point in the built tree, for the phases that run it as a process of its own. */
export const VIGIL_CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

const execFileAsync = promisify(execFile);

/**
 * Runs a script with this node to its end: its output, or a rejection carrying it (`stdout`,
 * `signal`). `nodeArgs` go before the script.
 */
export async function runNode(script: string, args: readonly string[], opts: ExecFileOptions & { nodeArgs?: readonly string[] } = {}): Promise<{ stdout: string; stderr: string }> {
  const { nodeArgs = [], ...exec } = opts;
  const { stdout, stderr } = await execFileAsync(process.execPath, [...nodeArgs, script, ...args], { ...exec, encoding: 'utf8' });
  return { stdout, stderr };
}

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

/** Children (and their scratch directories) to stop if this process ends before it stops them. */
const owned = new Map<ChildProcess, string | undefined>();
let hooked = false;

/**
 * Kills `child` (and removes `dir`, when given) if this process exits, or is interrupted with
 * Ctrl-C or SIGTERM, while the child still runs: an interrupted `vigil bench`, or a test worker
 * the runner ends, leaves no gateway or server holding ports and memory behind.
 * @returns `child`
 */
export function own<T extends ChildProcess>(child: T, dir?: string): T {
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
    // A signal ends the process without 'exit': do what it would do, after the children are gone.
    for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
      process.once(signal, () => {
        if (owned.size > 0) process.stderr.write(`${signal}: stopping the processes this run started\n`);
        process.exit(code); // 'exit' runs cleanUp
      });
    }
  }
  owned.set(child, dir);
  child.once('exit', () => owned.delete(child));
  return child;
}
