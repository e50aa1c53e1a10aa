/**
 * A simulated ward in one call: MQTT wearables and cuffs through the fleet, and serial bedside
 * monitors each on its own virtual cable (socat) or an existing path. `vigil sim` and `vigil demo`
 * both build on this.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log } from '../src/core/log.js';
import { SimDevice, simProfileFor } from './device.js';
import { startFleet, type Fleet, type FleetDevice } from './fleet.js';
import { loadScenario, type Scenario } from './scenario.js';
import { runSerialDevice, type SerialRunner } from './serial-runner.js';
import { SocatPair, socatAvailable } from './socat.js';

/** Serial devices by the profile that reads them, and by the profiles' former names. */
export const SERIAL_SIM_PROFILES = ['masimo-ascii1', 'nellcor-n595-n560', 'ge-datex-s5-dri', 'masimo-radical7', 'nellcor-n595', 'datex-s5'] as const;
export type SerialSimProfile = (typeof SERIAL_SIM_PROFILES)[number];

/** One serial bedside monitor. */
export interface SerialSimSpec {
  /** Key in `serialPaths`; default the profile name (numbered when repeated). */
  readonly id?: string;
  readonly profile: SerialSimProfile;
  /** Built-in scenario name, file path, or a loaded scenario. */
  readonly scenario: string | Scenario;
  readonly seed?: number;
  /** Write here (a tty or a pty end someone else made). Without it a socat pair is created. */
  readonly path?: string;
}

export interface WardOptions {
  /** Broker URL for the MQTT devices; required when `devices` is not empty. */
  readonly mqttUrl?: string;
  readonly devices?: readonly FleetDevice[];
  readonly serial?: readonly SerialSimSpec[];
  /** Milliseconds between wearable publishes. Default 5000. */
  readonly intervalMs?: number;
  /** Scenario seconds per device second for every device; default each scenario's own. */
  readonly timeScale?: number;
  /** Seconds between cuff measurements (json-v1-nibp, ge-datex-s5-dri). Default 300. */
  readonly nibpIntervalS?: number;
  /** Stop after this many device seconds; default run until stopped. */
  readonly durationS?: number;
  /** Where socat links go; default a fresh temp dir, removed on stop. */
  readonly ptyDir?: string;
}

export interface SimulatedWard {
  /** Path the gateway should open for each serial device, by id. */
  readonly serialPaths: Record<string, string>;
  /** Serial devices that could not start (e.g. socat missing), with the reason, by id. */
  readonly skipped: Record<string, string>;
  readonly fleet?: Fleet;
  readonly serialRunners: Record<string, SerialRunner>;
  /** Every simulated device by id (serial and MQTT): `truth()` and `startEpochMs` map ground truth to wall time. */
  readonly devices: ReadonlyMap<string, SimDevice>;
  /** Resolves when every device reached `durationS` (never without one). */
  finished(): Promise<void>;
  /** Stops every device, ends socat, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export async function startSimulatedWard(options: WardOptions): Promise<SimulatedWard> {
  const logger = log().child({ component: 'sim-ward' });
  const serialPaths: Record<string, string> = {};
  const skipped: Record<string, string> = {};
  const serialRunners: Record<string, SerialRunner> = {};
  const socats: SocatPair[] = [];
  const simDevices = new Map<string, SimDevice>();
  let ownDir: string | undefined;
  let fleet: Fleet | undefined;

  const stop = async (): Promise<void> => {
    await Promise.all(Object.values(serialRunners).map((r) => r.stop()));
    await Promise.all(socats.map((s) => s.stop()));
    await fleet?.stop();
    if (ownDir) rmSync(ownDir, { recursive: true, force: true });
  };

  try {
    const specs = options.serial ?? [];
    const ids = serialIds(specs);
    const needSocat = specs.some((s) => s.path === undefined);
    const haveSocat = needSocat && socatAvailable();
    let dir = options.ptyDir;
    if (needSocat && haveSocat && dir === undefined) dir = ownDir = mkdtempSync(join(tmpdir(), 'vigil-sim-'));
    for (const [i, spec] of specs.entries()) {
      const id = ids[i] as string;
      let path = spec.path;
      let socat: SocatPair | undefined;
      if (path === undefined) {
        if (!haveSocat || dir === undefined) {
          skipped[id] = 'socat is not installed (Debian: apt-get install socat); give a path to write to instead';
          continue;
        }
        socat = new SocatPair(dir, id);
        await socat.start();
        socats.push(socat);
        path = socat.devicePath;
        serialPaths[id] = socat.gatewayPath;
      } else {
        serialPaths[id] = path;
      }
      const kind = simProfileFor(spec.profile);
      if (!kind) throw new Error(`serial device ${id}: unknown profile "${spec.profile}" (one of ${SERIAL_SIM_PROFILES.join(', ')})`);
      const device = new SimDevice({
        id,
        profile: kind,
        scenario: typeof spec.scenario === 'string' ? loadScenario(spec.scenario) : spec.scenario,
        seed: spec.seed ?? 1,
        startEpochMs: Date.now(),
        ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
        ...(options.nibpIntervalS !== undefined ? { nibpIntervalS: options.nibpIntervalS } : {}),
      });
      simDevices.set(id, device);
      serialRunners[id] = runSerialDevice(device, {
        path,
        ...(socat ? { socat } : {}),
        ...(options.durationS !== undefined ? { durationS: options.durationS } : {}),
      });
      logger.info({ deviceId: id, profile: spec.profile, gatewayPath: serialPaths[id] }, 'serial device started');
    }

    const devices = options.devices ?? [];
    if (devices.length > 0) {
      if (!options.mqttUrl) throw new Error('mqttUrl is required for MQTT devices');
      const intervalMs = options.intervalMs ?? 5000;
      fleet = await startFleet({
        url: options.mqttUrl,
        devices,
        intervalMs,
        qos: 1,
        ...(options.timeScale !== undefined ? { timeScale: options.timeScale } : {}),
        ...(options.nibpIntervalS !== undefined ? { nibpIntervalS: options.nibpIntervalS } : {}),
        ...(options.durationS !== undefined ? { durationS: options.durationS } : {}),
      });
    }
  } catch (err) {
    await stop();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    serialPaths,
    skipped,
    ...(fleet ? { fleet } : {}),
    serialRunners,
    devices: new Map([...simDevices, ...(fleet?.devices ?? [])]),
    finished: async () => {
      await Promise.all([...Object.values(serialRunners).map((r) => r.finished()), fleet?.done()]);
    },
    stop: () => (stopping ??= stop()),
  };
}

/** Ids for serial specs: given ids, else the profile name, numbered when a profile repeats. */
function serialIds(specs: readonly SerialSimSpec[]): string[] {
  const counts = new Map<string, number>();
  for (const s of specs) if (!s.id) counts.set(s.profile, (counts.get(s.profile) ?? 0) + 1);
  const seen = new Map<string, number>();
  return specs.map((s) => {
    if (s.id) return s.id;
    const n = (seen.get(s.profile) ?? 0) + 1;
    seen.set(s.profile, n);
    return (counts.get(s.profile) ?? 0) > 1 ? `${s.profile}-${n}` : s.profile;
  });
}
