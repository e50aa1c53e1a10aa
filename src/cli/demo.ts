/**
 * `vigil demo`: the gateway on embedded defaults with a simulated ward, so a new user sees it
 * work at once. Everything is real: the wearables publish over MQTT to the embedded broker,
 * the bedside oximeter writes to a socat pty that the gateway's serial source reads.
 */
import { join } from 'node:path';
import type { Command } from './command.js';
import { intFlag, parse } from './args.js';
import { validateConfig } from '../config/load.js';
import { setLogLevel, log, LOG_LEVELS } from '../core/log.js';
import { Gateway } from '../gateway.js';
import { generateSecret, hashSecret } from '../broker/secrets.js';
import { startSimulatedWard, type SimulatedWard } from '../../firmware-sim/ward.js';
import { socatAvailable } from '../../firmware-sim/socat.js';
import { takeSignals } from './lifecycle.js';
import { DemoReporter } from './demo-report.js';
import { generatePassword, hashPassword } from '../web/passwords.js';
import { fleetDeviceId } from './sim.js';

/** The simulated patients: one per bed, each with a story worth watching. */
export const DEMO_BEDS = [
  { bed: '1', patient: 'P1', device: 'wb-01', scenario: 'stable' },
  { bed: '2', patient: 'P2', device: 'wb-02', scenario: 'desaturation' },
  { bed: '3', patient: 'P3', device: 'wb-03', scenario: 'sepsis' },
  { bed: '4', patient: 'P4', device: 'wb-04', scenario: 'brady' },
  { bed: '5', patient: 'P5', device: 'wb-05', scenario: 'artifact-storm' },
] as const;
const SERIAL_BED = { bed: '6', patient: 'P6', device: 'ox-06', profile: 'masimo-radical7', scenario: 'sensor-off' } as const;

/**
 * Devices the demo also accepts, so `vigil sim` can bring its own fleet: the ids `vigil sim`
 * generates by default, each with the secret "s-" followed by its id (--secret-prefix s-).
 * Unassigned, so they are stored and raise no physiological alarm until given a bed.
 */
export const DEMO_SIM_FLEET = { wearables: 50, cuffs: 10, wearablePrefix: 'sim-wearable-', cuffPrefix: 'sim-cuff-', secretPrefix: 's-' } as const;

function simFleetIds(): string[] {
  const f = DEMO_SIM_FLEET;
  return [...Array.from({ length: f.wearables }, (_, i) => fleetDeviceId(f.wearablePrefix, i + 1)), ...Array.from({ length: f.cuffs }, (_, i) => fleetDeviceId(f.cuffPrefix, i + 1))];
}

export const demoCommand: Command = {
  name: 'demo',
  summary: 'Run the gateway with a simulated ward (wearables over MQTT, an oximeter over a pty)',
  help: `Usage: vigil demo [options]

Starts the gateway on embedded defaults and a simulated ward of ${DEMO_BEDS.length + 1} beds: ${DEMO_BEDS.length} wearables
publishing over real MQTT (scenarios: ${DEMO_BEDS.map((b) => b.scenario).join(', ')})
and, when socat is installed, a bedside pulse oximeter (${SERIAL_BED.profile}, scenario ${SERIAL_BED.scenario})
on a virtual serial cable. Every 10 s it prints what was stored and which alarms are active.
It also accepts your own simulated devices, ${DEMO_SIM_FLEET.wearablePrefix}01…${DEMO_SIM_FLEET.wearables} and ${DEMO_SIM_FLEET.cuffPrefix}01…${DEMO_SIM_FLEET.cuffs}
with the secret "${DEMO_SIM_FLEET.secretPrefix}" + id (unassigned: stored, no physiological alarm), e.g.
  vigil sim --mqtt mqtt://127.0.0.1:1883 --wearables 20 --secret-prefix ${DEMO_SIM_FLEET.secretPrefix}
and prints an API token for /api (Authorization: Bearer TOKEN) and nurse-station accounts.

Options:
  --mqtt-port N      MQTT port on 127.0.0.1 (default 1883; $VIGIL_MQTT_PORT)
  --http-port N      HTTP port on 127.0.0.1 (default 8080; $VIGIL_HTTP_PORT)
  --data-dir DIR     Spool and state (default .vigil-data/demo; $VIGIL_DATA_DIR)
  --influx-url URL   Also write to this InfluxDB ($VIGIL_INFLUX_URL, _TOKEN, _ORG, _BUCKET)
  --time-scale X     Scenario seconds per real second (default 30: a 20-minute story in 40 s)
  --interval-ms N    Milliseconds between wearable publishes (default 1000)
  --duration S       Stop by itself after S seconds (default: run until Ctrl-C)
  --log-level LEVEL  Gateway log level on stderr (default warn)

Example:
  vigil demo --duration 60`,
  async run(args) {
    const { values } = parse(args, {
      'mqtt-port': { type: 'string' },
      'http-port': { type: 'string' },
      'data-dir': { type: 'string' },
      'influx-url': { type: 'string' },
      'time-scale': { type: 'string' },
      'interval-ms': { type: 'string' },
      duration: { type: 'string' },
      'log-level': { type: 'string' },
    });
    const env = process.env;
    const mqttPort = intFlag('mqtt-port', values['mqtt-port'] ?? env.VIGIL_MQTT_PORT, 1883, 0, 65535);
    const httpPort = intFlag('http-port', values['http-port'] ?? env.VIGIL_HTTP_PORT, 8080, 0, 65535);
    const timeScale = Number(values['time-scale'] ?? 30);
    if (!(timeScale > 0 && timeScale <= 3600)) throw new Error(`--time-scale: "${values['time-scale']}" must be a number from 0 to 3600`);
    const intervalMs = intFlag('interval-ms', values['interval-ms'], 1000, 50, 60_000);
    const durationS = values.duration === undefined ? undefined : intFlag('duration', values.duration, 0, 1, 86_400);
    const level = values['log-level'] ?? 'warn';
    if (!(LOG_LEVELS as readonly string[]).includes(level)) throw new Error(`--log-level: "${level}" is not one of ${LOG_LEVELS.join(', ')}`);
    setLogLevel(level as (typeof LOG_LEVELS)[number]);
    const out = (line: string) => process.stdout.write(line + '\n');
    const signals = takeSignals();

    // Serial first: the pty must exist before the gateway's serial source opens it.
    let ward: SimulatedWard | undefined;
    const withSerial = socatAvailable();
    const serialWard = withSerial ? await startSimulatedWard({ serial: [{ id: SERIAL_BED.device, profile: SERIAL_BED.profile, scenario: SERIAL_BED.scenario, seed: 6 }], timeScale }) : undefined;
    const serialPath = serialWard?.serialPaths[SERIAL_BED.device];

    const secrets = new Map<string, string>(DEMO_BEDS.map((b) => [b.device, generateSecret()]));
    const apiToken = generateSecret();
    const simFleet = await Promise.all(simFleetIds().map(async (id) => ({ id, secretHash: await hashSecret(`${DEMO_SIM_FLEET.secretPrefix}${id}`), description: 'for vigil sim' })));
    // Nurse-station accounts for this run only; their passwords are printed in the banner.
    const demoUsers = [
      { username: 'nurse', name: 'Demo Nurse', role: 'nurse' as const, password: generatePassword() },
      { username: 'charge', name: 'Demo Charge Nurse', role: 'charge' as const, password: generatePassword() },
      { username: 'admin', name: 'Demo Administrator', role: 'admin' as const, password: generatePassword() },
    ];
    const config = validateConfig({
      dataDir: values['data-dir'] ?? env.VIGIL_DATA_DIR ?? join('.vigil-data', 'demo'),
      mqtt: { port: mqttPort, rate: { messagesPerSecond: 50, burst: 100 } },
      http: { port: httpPort, apiToken },
      web: { users: await Promise.all(demoUsers.map(async ({ password, ...u }) => ({ ...u, passwordHash: await hashPassword(password) }))) },
      devices: [...(await Promise.all(DEMO_BEDS.map(async (b) => ({ id: b.device, secretHash: await hashSecret(secrets.get(b.device)!), description: `demo wearable, bed ${b.bed}` })))), ...simFleet],
      serial: serialPath ? [{ path: serialPath, deviceId: SERIAL_BED.device, profile: SERIAL_BED.profile }] : [],
      census: {
        wards: [{ id: 'demo', name: 'Demo ward', beds: [...DEMO_BEDS.map((b) => b.bed), SERIAL_BED.bed] }],
        patients: [
          ...DEMO_BEDS.map((b) => ({ id: b.patient, ward: 'demo', bed: b.bed, devices: [b.device] })),
          ...(serialPath ? [{ id: SERIAL_BED.patient, ward: 'demo', bed: SERIAL_BED.bed, devices: [SERIAL_BED.device] }] : []),
        ],
      },
      influx: {
        ...(values['influx-url'] ?? env.VIGIL_INFLUX_URL ? { url: values['influx-url'] ?? env.VIGIL_INFLUX_URL } : {}),
        ...(env.VIGIL_INFLUX_TOKEN ? { token: env.VIGIL_INFLUX_TOKEN } : {}),
        ...(env.VIGIL_INFLUX_ORG ? { org: env.VIGIL_INFLUX_ORG } : {}),
        ...(env.VIGIL_INFLUX_BUCKET ? { bucket: env.VIGIL_INFLUX_BUCKET } : {}),
      },
    }, 'demo settings');

    const gateway = new Gateway(config);
    try {
      await gateway.start();
    } catch (err) {
      await serialWard?.stop();
      throw err;
    }
    const mqttUrl = `mqtt://127.0.0.1:${gateway.broker.addresses.tcp}`;
    ward = await startSimulatedWard({
      mqttUrl,
      devices: DEMO_BEDS.map((b, i) => ({ id: b.device, secret: secrets.get(b.device)!, scenario: b.scenario, seed: i + 1 })),
      intervalMs,
      timeScale,
    });

    const http = `http://127.0.0.1:${gateway.http.port}`;
    out(`Vigil demo: a simulated ward of ${DEMO_BEDS.length + (serialPath ? 1 : 0)} beds on this machine.`);
    out(`  MQTT broker   ${mqttUrl}  (${DEMO_BEDS.length} simulated wearables, scenarios: ${DEMO_BEDS.map((b) => `bed ${b.bed} ${b.scenario}`).join(', ')})`);
    out(serialPath ? `  Serial        ${SERIAL_BED.profile} oximeter on ${serialPath} (bed ${SERIAL_BED.bed}, scenario ${SERIAL_BED.scenario})` : '  Serial        skipped: socat is not installed (apt-get install socat), so no virtual serial cable');
    out(`  Nurse station ${http}/  sign in as ${demoUsers.map((u) => `${u.username} / ${u.password}`).join(', ')}`);
    out(`  Health        ${http}/healthz    Metrics ${http}/metrics`);
    out(`  API token     ${apiToken}  (Authorization: Bearer …)`);
    out(`  Your devices  vigil sim --mqtt ${mqttUrl} --wearables 20 --secret-prefix ${DEMO_SIM_FLEET.secretPrefix}  (${DEMO_SIM_FLEET.wearablePrefix}01…${DEMO_SIM_FLEET.wearables}, ${DEMO_SIM_FLEET.cuffPrefix}01…${DEMO_SIM_FLEET.cuffs}; unassigned: stored, no alarms)`);
    out(config.influx.url ? `  InfluxDB      ${config.influx.url}` : `  InfluxDB      not configured: data is kept in the spool under ${gateway.dataDir} (set --influx-url to forward it)`);
    out(`  Time          scenarios run ${timeScale}x faster than real time. Ctrl-C stops.`);

    const reporter = new DemoReporter(gateway, out);
    const timer = setInterval(() => void reporter.report(), 10_000);
    const stopAll = async () => {
      clearInterval(timer);
      await ward?.stop();
      await gateway.stop();
      await serialWard?.stop();
      await reporter.report();
      out('Vigil demo stopped: spool flushed and closed.');
    };
    if (durationS !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([signals.first, new Promise((r) => (timer = setTimeout(r, durationS * 1000)))]);
      clearTimeout(timer);
      await stopAll();
      return 0;
    }
    log().debug('demo running until a signal');
    return signals.runUntilSignal(stopAll);
  },
};
