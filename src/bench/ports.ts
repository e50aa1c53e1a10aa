/** Loopback ports for the benchmark's servers (and the test suite's). */
import { createServer } from 'node:net';

/** Resolves when `port` on 127.0.0.1 can be bound right now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** Ports `freePort` has handed out in this process. */
const given = new Set<number>();

/**
 * A port on 127.0.0.1 that was free a moment ago (bind port 0, read it, release it), never one
 * handed out before in this process: the system may give the same free port twice in a row, and
 * two servers asked to share one would fail to start.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await anyFreePort();
    if (given.has(port)) continue;
    // a long run forgets the oldest: thousands of ports later, one is long free again
    if (given.size >= 4096) given.delete(given.values().next().value!);
    given.add(port);
    return port;
  }
}

function anyFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Refuses to go on when a port is taken: something else answering there would be measured
 * instead of Vigil.
 */
export async function assertPortsFree(ports: Record<string, number>): Promise<void> {
  const taken: string[] = [];
  for (const [name, port] of Object.entries(ports)) if (!(await portFree(port))) taken.push(`${name} ${port}`);
  if (taken.length > 0) throw new Error(`port${taken.length > 1 ? 's' : ''} already in use on 127.0.0.1: ${taken.join(', ')}. Stop what uses ${taken.length > 1 ? 'them' : 'it'} or choose others (--mqtt-port, --http-port, --vm-port, --aedes-port); refusing to measure something else.`);
}
