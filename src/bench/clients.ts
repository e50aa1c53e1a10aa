/**
 * The parent's side of the load generators: forks N client processes, splits the devices among
 * them, and gathers their counters and probe times.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromClient, LoadPlan, LoadStats, ToClient } from './protocol.js';
import { own } from './proc.js';

const CLIENT = fileURLToPath(new URL('./load-client.js', import.meta.url));

const ZERO: LoadStats = { connected: 0, connectFailures: 0, published: 0, acked: 0, errors: 0, finished: 0 };

function add(a: LoadStats, b: LoadStats): LoadStats {
  return {
    connected: a.connected + b.connected,
    connectFailures: a.connectFailures + b.connectFailures,
    published: a.published + b.published,
    acked: a.acked + b.acked,
    errors: a.errors + b.errors,
    finished: a.finished + b.finished,
  };
}

export class LoadClients {
  private readonly procs: ChildProcess[] = [];
  private tag = 0;
  /** Probe breach publishes: device index and epoch ms. */
  onProbe: ((device: number, at: number) => void) | undefined;

  /**
   * Forks `processes` clients over devices [first, first + count) and connects them all.
   * @returns the summed counters once every client has tried every connection.
   */
  async start(processes: number, plan: Omit<LoadPlan, 'first' | 'count'> & { first: number; count: number }): Promise<LoadStats> {
    const per = Math.ceil(plan.count / processes);
    const ready: Promise<LoadStats>[] = [];
    for (let p = 0; p < processes; p++) {
      const first = plan.first + p * per;
      const count = Math.min(per, plan.first + plan.count - first);
      if (count <= 0) break;
      const proc = fork(CLIENT, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      own(proc);
      this.procs.push(proc);
      proc.on('message', (m: FromClient) => {
        if (m.type === 'probe') this.onProbe?.(m.device, m.at);
      });
      ready.push(this.once(proc, 'connected').then((m) => (m as { stats: LoadStats }).stats));
      proc.send({ type: 'plan', plan: { ...plan, first, count } } satisfies ToClient);
    }
    return (await Promise.all(ready)).reduce(add, ZERO);
  }

  /** Process ids of the client processes. */
  get pids(): number[] {
    return this.procs.flatMap((p) => (p.pid ? [p.pid] : []));
  }

  /** Starts publishing in every client. */
  go(): void {
    for (const p of this.procs) p.send({ type: 'go' } satisfies ToClient);
  }

  /** Summed counters right now. */
  async snapshot(): Promise<LoadStats> {
    const tag = ++this.tag;
    const all = this.procs.map((p) => {
      const reply = this.once(p, 'snapshot', (m) => m.type === 'snapshot' && m.tag === tag);
      p.send({ type: 'snapshot', tag } satisfies ToClient);
      return reply.then((m) => (m as { stats: LoadStats }).stats);
    });
    return (await Promise.all(all)).reduce(add, ZERO);
  }

  /** Stops every client and waits for them to exit. */
  async stop(): Promise<LoadStats> {
    const all = this.procs.splice(0).map(async (p) => {
      if (!p.connected) return ZERO;
      const done = this.once(p, 'stopped').then((m) => (m as { stats: LoadStats }).stats, () => ZERO);
      const exit = new Promise<void>((r) => p.once('exit', () => r()));
      p.send({ type: 'stop' } satisfies ToClient);
      const stats = await done;
      const timer = setTimeout(() => p.kill('SIGKILL'), 5000);
      await exit;
      clearTimeout(timer);
      return stats;
    });
    return (await Promise.all(all)).reduce(add, ZERO);
  }

  private once(p: ChildProcess, type: FromClient['type'], match: (m: FromClient) => boolean = (m) => m.type === type): Promise<FromClient> {
    return new Promise((resolve, reject) => {
      const onMsg = (m: FromClient): void => {
        if (!match(m)) return;
        p.off('message', onMsg);
        p.off('exit', onExit);
        resolve(m);
      };
      const onExit = (): void => {
        p.off('message', onMsg);
        reject(new Error(`load client exited before "${type}"`));
      };
      p.on('message', onMsg);
      p.once('exit', onExit);
    });
  }
}
