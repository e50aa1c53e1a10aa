/**
 * What every benchmark phase shares: ports, the time-series server, progress output, and the
 * helpers that start a gateway and its load against it.
 */
import type { Victoria } from './victoria.js';
import { GatewayChild } from './gateway-child.js';
import { benchGatewayConfig } from './config.js';
import { assertPortsFree } from './ports.js';

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
  readonly vm: Victoria;
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

/** Starts a fresh gateway configured for `devices` wearables (its data directory first given what `prepare` puts there). */
export async function startGateway(env: BenchEnv, devices: number, prepare?: (dataDir: string) => Promise<void>): Promise<GatewayChild> {
  await assertPortsFree({ mqtt: env.ports.mqtt, http: env.ports.http });
  return GatewayChild.start({
    config: benchGatewayConfig({ devices, mqttPort: env.ports.mqtt, httpPort: env.ports.http, influxUrl: env.vm.url, ...(env.influxBatchSize ? { influxBatchSize: env.influxBatchSize } : {}) }),
    httpPort: env.ports.http,
    nodeArgs: env.gatewayNodeArgs,
    ...(prepare ? { prepare } : {}),
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

