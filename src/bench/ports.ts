/** Loopback ports for the benchmark's servers (and the test suite's). */
import { readFileSync } from 'node:fs';
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

/** Lowest port `freePort` hands out. */
const LOWEST = 10_000;
/** Processes running at once (test workers, the benchmark) each take ports from a slice of their own. */
const SLICES = 8;

/**
 * Where `freePort` looks: below the ports the system gives outgoing connections
 * (`ip_local_port_range`). A free port from that range can be taken by any client's connection
 * between being found free and being bound, and a test or benchmark making thousands of
 * connections takes many: a gateway then failed to start with its port "already in use".
 * Each process looks in a slice of its own (by test worker, else by pid), so two processes
 * seldom try the same port at once.
 */
function searchRange(): { from: number; to: number } | undefined {
  let ephemeralFrom = 32_768;
  try {
    ephemeralFrom = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    // not Linux: its usual range is above the default one's start too
  }
  const size = Math.floor((ephemeralFrom - LOWEST) / SLICES);
  if (!Number.isSafeInteger(size) || size < 256) return undefined;
  const slice = Number(process.env.VITEST_POOL_ID ?? process.pid) % SLICES;
  return { from: LOWEST + slice * size, to: LOWEST + (slice + 1) * size - 1 };
}

const range = searchRange();
/** Next port to try in `range`; starts at a random place so that runs do not retrace each other. */
let cursor = range ? range.from + Math.floor(Math.random() * (range.to - range.from + 1)) : 0;

/**
 * A port on 127.0.0.1 that was free a moment ago, below the system's range for outgoing
 * connections (see `searchRange`), never one handed out before in this process: two servers
 * asked to share one would fail to start.
 */
export async function freePort(): Promise<number> {
  if (range) {
    for (let tried = 0; tried <= range.to - range.from; tried++) {
      const port = cursor;
      cursor = cursor >= range.to ? range.from : cursor + 1;
      if (given.has(port) || !(await portFree(port))) continue;
      remember(port);
      return port;
    }
  }
  // no room below the outgoing range (or all of it taken): any port the system gives
  for (;;) {
    const port = await anyFreePort();
    if (given.has(port)) continue;
    remember(port);
    return port;
  }
}

function remember(port: number): void {
  // a long run forgets the oldest: thousands of ports later, one is long free again
  if (given.size >= 4096) given.delete(given.values().next().value!);
  given.add(port);
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
