/**
 * What every benchmark phase shares: ports, the time-series server, progress output, and the
 * helpers that start a gateway and its load against it.
 */
import { createServer } from 'node:net';
import { BenchVictoria } from './victoria.js';
import { GatewayChild } from './gateway-child.js';
import { benchGatewayConfig } from './config.js';

export { cpuMsOf } from './proc.js';

export interface BenchPorts {
  readonly mqtt: number;
  readonly http: number;
  readonly victoria: number;
  readonly aedes: number;
}

export interface BenchEnv {
  /** Epoch ms the run started; every phase's live data is stamped after it. */
  readonly startedAt: number;
  readonly ports: BenchPorts;
  readonly vm: BenchVictoria;
  /** Load-generator processes. */
  readonly clientProcesses: number;
  /** Where gateway CPU profiles go (`--profile`), or undefined. */
  readonly cpuProfDir: string | undefined;
  /** Extra node options for the gateway process (e.g. heap settings being evaluated). */
  readonly gatewayNodeArgs: readonly string[];
  /** `influx.batchSize` for the gateway, when not the default. */
  readonly influxBatchSize: number | undefined;
  progress(line: string): void;
}

/** Resolves when `port` on 127.0.0.1 can be bound right now. */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port that was free a moment ago. */
export function freePort(): Promise<number> {
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

/** Starts a fresh gateway configured for `devices` wearables. */
export async function startGateway(env: BenchEnv, devices: number): Promise<GatewayChild> {
  await assertPortsFree({ mqtt: env.ports.mqtt, http: env.ports.http });
  return GatewayChild.start({
    config: benchGatewayConfig({ devices, mqttPort: env.ports.mqtt, httpPort: env.ports.http, influxUrl: env.vm.url, ...(env.influxBatchSize ? { influxBatchSize: env.influxBatchSize } : {}) }),
    httpPort: env.ports.http,
    nodeArgs: env.gatewayNodeArgs,
    ...(env.cpuProfDir ? { cpuProfDir: env.cpuProfDir } : {}),
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; returns whether it did. */
export async function waitUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await sleep(everyMs);
  }
}

/** Client processes for a number of devices: one for small fleets, the configured number otherwise. */
export function processesFor(env: BenchEnv, devices: number): number {
  return devices <= 200 ? 1 : env.clientProcesses;
}

