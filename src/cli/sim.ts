/**
 * `vigil sim`: simulated wearables (MQTT) and bedside monitors (serial) driven by scenarios, for
 * demos, benchmarks and trying a gateway config without a ward. The building blocks are exported
 * so `vigil demo` can start a simulated ward in-process.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { listScenarios, loadScenario } from '../../firmware-sim/scenario.js';
import { SERIAL_SIM_PROFILES, startSimulatedWard, type SerialSimProfile, type SerialSimSpec } from '../../firmware-sim/ward.js';
import type { FleetDevice, FleetStats } from '../../firmware-sim/fleet.js';
import type { Command } from './command.js';
import { takeSignals } from './lifecycle.js';
import { idSchema } from '../core/ids.js';

export { startSimulatedWard, type SimulatedWard, type WardOptions, type SerialSimSpec } from '../../firmware-sim/ward.js';
export { startFleet, type Fleet, type FleetDevice, type FleetOptions, type FleetStats } from '../../firmware-sim/fleet.js';
export { SimDevice, type SimChunk, type SimDeviceOptions } from '../../firmware-sim/device.js';
export { listScenarios, loadScenario, parseScenario, type Scenario, type TruthEvent } from '../../firmware-sim/scenario.js';

const HELP = `vigil sim — simulated patients on wearables and bedside monitors

Usage:
  vigil sim --mqtt URL --wearables N --secret-prefix P [options]
  vigil sim --serial PROFILE:SCENARIO[:PATH] [--serial …] [options]
  vigil sim --list-scenarios

MQTT devices (profile json-v1, QoS 1 to vigil/v1/dev/{id}/obs, username = id, password = secret):
  --mqtt URL              broker, e.g. mqtt://127.0.0.1:1883
  --wearables N           number of wearables, ids {id-prefix}01… (default 0)
  --cuffs N               number of NIBP cuffs, ids {cuff-prefix}01… (default 0)
  --id-prefix P           wearable id prefix (default sim-wearable-)
  --cuff-prefix P         cuff id prefix (default sim-cuff-)
  --secret-prefix P       each device's secret is P followed by its id
  --secret S              one secret for every device
  --devices FILE          YAML/JSON list of {id, secret, scenario?, seed?, profile?} (profile json-v1 or json-v1-nibp)
  --interval SECONDS      seconds between a wearable's publishes (default 5)

Serial devices (repeatable):
  --serial PROFILE:SCENARIO[:PATH]
                          PROFILE is ${SERIAL_SIM_PROFILES.join(', ')}.
                          Without PATH a socat pty pair is made in a temp dir and the path the
                          gateway should open is printed; with PATH the device writes there.

Common:
  --scenario NAME|FILE    scenario for generated MQTT devices (default stable)
  --seed N                seed of the first device; device i uses N+i (default 1)
  --time-scale X          scenario seconds per real second (default: the scenario's, e.g. sepsis 60)
  --nibp-interval SECONDS seconds between cuff measurements (default 300)
  --duration SECONDS      stop after this long (default: until Ctrl-C)
  --stats-every SECONDS   print a status line this often (default 10, 0 = never)
  --list-scenarios        list the built-in scenarios and exit
  -h, --help              this text

Examples:
  vigil sim --mqtt mqtt://127.0.0.1:1883 --wearables 5 --scenario desaturation --seed 1 --secret-prefix demo-
  vigil sim --mqtt mqtt://127.0.0.1:1883 --wearables 20 --scenario sepsis --time-scale 120 --secret s3cret-ward
  vigil sim --serial masimo-radical7:desaturation --serial datex-s5:sepsis --duration 600
  vigil sim --serial nellcor-n595:artifact-storm:/dev/ttyUSB1
  vigil sim --serial masimo-radical7:./my-scenario.yaml

Scenario files: see firmware-sim/README.md.
`;

class UsageError extends Error {}

const devicesFileSchema = z.array(
  z.strictObject({
    id: idSchema,
    secret: z.string().min(1),
    scenario: z.string().optional(),
    seed: z.number().int().optional(),
    profile: z.enum(['json-v1', 'json-v1-nibp']).optional(),
  }),
);

function positiveNumber(name: string, v: string | undefined, allowZero = false): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || (!allowZero && n === 0)) throw new UsageError(`--${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got "${v}"`);
  return n;
}

function count(name: string, v: string | undefined): number {
  const n = positiveNumber(name, v, true) ?? 0;
  if (!Number.isInteger(n)) throw new UsageError(`--${name} must be a whole number, got "${v}"`);
  return n;
}

/** Parses `PROFILE:SCENARIO[:PATH]`; the path may itself contain colons. */
export function parseSerialSpec(spec: string, seed: number): SerialSimSpec {
  const [profile, scenario, ...rest] = spec.split(':');
  if (!profile || !scenario) throw new UsageError(`--serial "${spec}": expected PROFILE:SCENARIO[:PATH]`);
  if (!(SERIAL_SIM_PROFILES as readonly string[]).includes(profile)) {
    throw new UsageError(`--serial "${spec}": unknown profile "${profile}" (one of ${SERIAL_SIM_PROFILES.join(', ')})`);
  }
  const path = rest.join(':');
  return { profile: profile as SerialSimProfile, scenario, seed, ...(path ? { path } : {}) };
}

/** What to do about a connection failure the fleet reports (see FleetStats.failing). */
export function connectHint(reason: string, url: string): string {
  // [MQTT-3.2.2.3] CONNACK 4 bad user name or password, 5 not authorized; MQTT 5: 0x86, 0x87.
  if (/\(code (4|134)\)$/.test(reason)) {
    return "the gateway does not know these device ids, or their secrets differ: each needs an entry in the gateway's devices: list with the secret given here (--secret-prefix P: device ID has secret P followed by ID). vigil demo knows sim-wearable-01… and sim-cuff-01… with --secret-prefix s-";
  }
  if (/\(code (5|135)\)$/.test(reason)) return 'the gateway does not let these accounts publish here';
  if (/ECONNREFUSED/.test(reason)) return `nothing listens at ${url}: is the gateway running, on that port?`;
  if (/ENOTFOUND|EAI_AGAIN/.test(reason)) return `the host in ${url} does not resolve`;
  if (/ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|timeout/i.test(reason)) return `${url} does not answer: check the address and any firewall between`;
  return '';
}

/** Says once, on stderr, why devices are not connected, for each reason not yet reported. */
function reportFailures(f: FleetStats, url: string, reported: Set<string>): void {
  for (const [reason, n] of Object.entries(f.failing)) {
    if (reported.has(reason)) continue;
    reported.add(reason);
    const hint = connectHint(reason, url);
    process.stderr.write(`vigil sim: ${n} of ${f.devices} devices cannot connect: ${reason}${hint ? `\n  ${hint}` : ''}\n`);
  }
}

/** The id of generated device `i` (from 1): the prefix and at least two digits, `sim-wearable-01`. */
export function fleetDeviceId(prefix: string, i: number): string {
  return `${prefix}${String(i).padStart(2, '0')}`;
}

async function run(args: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      strict: true,
      allowPositionals: false,
      options: {
        mqtt: { type: 'string' },
        wearables: { type: 'string' },
        cuffs: { type: 'string' },
        'id-prefix': { type: 'string', default: 'sim-wearable-' },
        'cuff-prefix': { type: 'string', default: 'sim-cuff-' },
        'secret-prefix': { type: 'string' },
        secret: { type: 'string' },
        devices: { type: 'string' },
        interval: { type: 'string' },
        serial: { type: 'string', multiple: true },
        scenario: { type: 'string', default: 'stable' },
        seed: { type: 'string', default: '1' },
        'time-scale': { type: 'string' },
        'nibp-interval': { type: 'string' },
        duration: { type: 'string' },
        'stats-every': { type: 'string', default: '10' },
        'list-scenarios': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`vigil sim: ${(err as Error).message} (see vigil sim --help)\n`);
    return 2;
  }
  const o = parsed.values;
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (o['list-scenarios']) {
    for (const s of listScenarios()) process.stdout.write(`${s.name.padEnd(16)} ${s.description}\n`);
    return 0;
  }

  let options;
  try {
    const seed = Number(o.seed);
    if (!Number.isInteger(seed)) throw new UsageError(`--seed must be a whole number, got "${o.seed}"`);
    loadScenario(o.scenario); // fail early, naming the scenario
    const wearables = count('wearables', o.wearables);
    const cuffs = count('cuffs', o.cuffs);
    const devices: FleetDevice[] = [];
    const secretFor = (id: string): string => {
      if (o.secret !== undefined) return o.secret;
      if (o['secret-prefix'] !== undefined) return `${o['secret-prefix']}${id}`;
      throw new UsageError('MQTT devices need credentials: give --secret-prefix or --secret (the secrets the gateway config holds)');
    };
    for (let i = 1; i <= wearables; i++) {
      const id = fleetDeviceId(o['id-prefix'], i);
      devices.push({ id, secret: secretFor(id), scenario: o.scenario, seed: seed + i - 1 });
    }
    for (let i = 1; i <= cuffs; i++) {
      const id = fleetDeviceId(o['cuff-prefix'], i);
      devices.push({ id, secret: secretFor(id), scenario: o.scenario, seed: seed + wearables + i - 1, profile: 'json-v1-nibp' });
    }
    if (o.devices !== undefined) {
      const listed = devicesFileSchema.safeParse(parseYaml(readFileSync(o.devices, 'utf8')));
      if (!listed.success) {
        const first = listed.error.issues[0];
        const where = (first?.path ?? []).map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
        throw new UsageError(`--devices ${o.devices}: ${where || '(top level)'}: ${first?.message ?? 'invalid'}`);
      }
      for (const [i, d] of listed.data.entries()) {
        devices.push({ id: d.id, secret: d.secret, scenario: d.scenario ?? o.scenario, seed: d.seed ?? seed + devices.length + i, ...(d.profile ? { profile: d.profile } : {}) });
      }
    }
    if (devices.length > 0 && o.mqtt === undefined) throw new UsageError('MQTT devices need --mqtt URL');
    const serial = (o.serial ?? []).map((s, i) => parseSerialSpec(s, seed + devices.length + i));
    for (const s of serial) if (typeof s.scenario === 'string') loadScenario(s.scenario);
    if (devices.length === 0 && serial.length === 0) throw new UsageError('nothing to simulate: give --wearables, --cuffs, --devices or --serial');
    const timeScale = positiveNumber('time-scale', o['time-scale']);
    const interval = positiveNumber('interval', o.interval);
    const nibp = positiveNumber('nibp-interval', o['nibp-interval']);
    const duration = positiveNumber('duration', o.duration);
    options = {
      ...(o.mqtt !== undefined ? { mqttUrl: o.mqtt } : {}),
      devices,
      serial,
      ...(timeScale !== undefined ? { timeScale } : {}),
      ...(interval !== undefined ? { intervalMs: interval * 1000 } : {}),
      ...(nibp !== undefined ? { nibpIntervalS: nibp } : {}),
      ...(duration !== undefined ? { durationS: duration } : {}),
    };
  } catch (err) {
    process.stderr.write(`vigil sim: ${(err as Error).message}\n`);
    return 2;
  }

  // Ctrl-C from here on stops the ward once started, even the moment its first line shows.
  const signals = takeSignals();
  const ward = await startSimulatedWard(options);
  for (const [id, reason] of Object.entries(ward.skipped)) process.stderr.write(`vigil sim: skipped serial device ${id}: ${reason}\n`);
  for (const [id, path] of Object.entries(ward.serialPaths)) process.stdout.write(`serial ${id}: gateway opens ${path}\n`);
  const reported = new Set<string>();
  if (ward.fleet) {
    const f = ward.fleet.stats();
    process.stdout.write(`mqtt: ${f.devices} devices, ${f.connected} connected, publishing to ${options.mqttUrl}\n`);
    reportFailures(f, options.mqttUrl ?? '', reported);
  }
  if (Object.keys(ward.serialPaths).length === 0 && !ward.fleet) {
    signals.release();
    await ward.stop();
    return 1;
  }

  const statsEvery = positiveNumber('stats-every', o['stats-every'], true) ?? 10;
  const printer =
    statsEvery > 0
      ? setInterval(() => {
          const f = ward.fleet?.stats();
          if (f) reportFailures(f, options.mqttUrl ?? '', reported);
          const serialBytes = Object.values(ward.serialRunners).reduce((n, r) => n + r.stats().bytes, 0);
          process.stdout.write(
            `${new Date().toISOString()} ${f ? `mqtt connected=${f.connected}/${f.devices} published=${f.published} acked=${f.acked} errors=${f.errors} reconnects=${f.reconnects} ` : ''}serial bytes=${serialBytes}\n`,
          );
        }, statsEvery * 1000)
      : undefined;

  await new Promise<void>((resolve) => {
    void signals.first.then(() => resolve());
    if (options.durationS !== undefined) {
      void ward.finished().then(() => resolve());
      // Publishes to a gateway that refuses the devices never settle: stop at the duration anyway.
      setTimeout(resolve, options.durationS * 1000 + 5000).unref();
    }
  });
  signals.release();
  if (printer) clearInterval(printer);
  await ward.stop();
  return 0;
}

export const simCommand: Command = {
  name: 'sim',
  summary: 'Simulate wearables (MQTT) and bedside monitors (serial) from scenarios',
  help: HELP,
  run,
};
