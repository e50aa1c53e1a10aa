/**
 * `vigil bench`: measures throughput, alarm latency, memory, the plain-aedes ceiling and spool
 * catch-up on this machine, with real processes over loopback TCP.
 */
import type { Command } from './command.js';
import { intFlag, parse, UsageError } from './args.js';
import { FULL, QUICK, runBench } from '../bench/run.js';
import { freePort } from '../bench/ports.js';

const DEFAULT_PORTS = { mqtt: 18830, http: 18880, victoria: 18428, aedes: 18831 } as const;

/** Parses `100x1,1000x2` (devices × messages/s each). */
function parseLevels(s: string): Array<{ devices: number; rate: number }> {
  return s.split(',').map((part) => {
    const m = /^(\d+)(?:x(\d+(?:\.\d+)?))?$/.exec(part.trim());
    if (!m || Number(m[1]) < 1 || (m[2] !== undefined && !(Number(m[2]) > 0))) throw new UsageError(`--levels: "${part}" is not DEVICES or DEVICESxRATE (e.g. 5000x1)`);
    return { devices: Number(m[1]), rate: m[2] === undefined ? 1 : Number(m[2]) };
  });
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'Measure throughput, alarm latency, memory, the plain-aedes ceiling, spool catch-up, restart, replay and a soak',
  help: `Usage: vigil bench [options]

Starts a time-series server (Debian victoria-metrics) and, for each phase, a fresh gateway
(\`vigil start\` from dist/), all on 127.0.0.1, and drives it with simulated wearables from
separate load-client processes over real TCP (QoS 1, every detector on). Phases:
  sustained  N devices at R msg/s: msg/s and obs/s accepted and written, publish-to-alarm
             latency p50/p99/max, gateway RSS and CPU (default ${FULL.levels.map((l) => `${l.devices}x${l.rate}`).join(', ')});
             then the largest load again on a gateway started with every station history
             full (when --histories-patients covers its devices)
  ceiling    the same clients as fast as possible against plain aedes, then against Vigil,
             each started afresh, in rounds: the median of the rounds' ratios, with
             Vigil's CPU and its garbage collections over its windows
  spool      minutes of ward data delivered with the time-series server down, then the time
             to write it all once it is back
  restart    a ward's day written into the spool by a gateway that is then killed a minute
             after its last alarm-state save; the time \`vigil start\` takes to come back
             over it with its alarms (default ${FULL.restart.beds} beds, ${FULL.restart.hours} h)
  replay     \`vigil replay\` of a simulated ward recording as a whole process, obs/s
             (default ${FULL.replay.patients} patients, ${FULL.replay.hours} h)
  histories  the station's trends, NEWS2 and alarm logs filled to their 6-h horizon at N
             patients (at the replay's busiest patient's rates, and at their caps): the MB
             they hold (default ${FULL.histories.patients} patients)
  soak       devices at 1 msg/s for a long run: RSS each minute and its slope over the
             second half (default ${FULL.soak.devices} devices, ${FULL.soak.minutes} min)
Prints progress on stderr, a markdown table on stdout, and writes JSON to --out.
Refuses to start when a port is taken, rather than measure something else.

Options:
  --quick              Smaller run, under a minute (${QUICK.levels.map((l) => `${l.devices}x${l.rate}`).join(', ')}; short windows)
  --levels LIST        Sustained loads, DEVICESxRATE comma-separated (e.g. 100x1,1000x1,5000x1)
  --window S           Measured seconds per load (default ${FULL.windowS}; quick ${QUICK.windowS})
  --ceiling-devices N  Clients for the ceiling (default ${FULL.ceiling.devices}; 0 skips it)
  --ceiling-rounds N   Pairs of ceiling windows, plain aedes then Vigil (default ${FULL.ceiling.rounds}; quick ${QUICK.ceiling.rounds})
  --spool-devices N    Devices for spool catch-up (default ${FULL.spool.devices}; 0 skips it)
  --spool-minutes M    Minutes of data each (default ${FULL.spool.minutes})
  --restart-beds N     Beds for the restart (default ${FULL.restart.beds}; quick ${QUICK.restart.beds}; 0 skips it)
  --restart-hours H    Hours of ward data in the spool (default ${FULL.restart.hours}; quick ${QUICK.restart.hours})
  --replay-hours H     Hours of the replayed recording (default ${FULL.replay.hours}; quick ${QUICK.replay.hours}; 0 skips it)
  --soak-minutes M     Minutes of the soak (default ${FULL.soak.minutes}; quick ${QUICK.soak.minutes}; 0 skips it)
  --soak-devices N     Devices in the soak (default ${FULL.soak.devices})
  --histories-patients N
                       Patients whose histories are filled (default ${FULL.histories.patients}; quick ${QUICK.histories.patients}; 0 skips it)
  --clients N          Load-client processes (default 2)
  --profile            Run the gateway under node --cpu-prof (profiles in OUT/profiles)
  --influx-batch-size N
                       The gateway's influx.batchSize (default: the gateway's default)
  --gateway-node-args "ARGS"
                       Extra node options for the gateway (e.g. --gateway-node-args="--max-semi-space-size=4")
  --out DIR            Results directory (default bench-results)
  --mqtt-port N, --http-port N, --vm-port N, --aedes-port N
                       Ports on 127.0.0.1 (defaults ${DEFAULT_PORTS.mqtt}, ${DEFAULT_PORTS.http}, ${DEFAULT_PORTS.victoria}, ${DEFAULT_PORTS.aedes});
  --free-ports         Pick free ports instead

Example:
  vigil bench --quick`,
  async run(args) {
    const { values } = parse(args, {
      quick: { type: 'boolean' },
      levels: { type: 'string' },
      window: { type: 'string' },
      'ceiling-devices': { type: 'string' },
      'ceiling-rounds': { type: 'string' },
      'spool-devices': { type: 'string' },
      'spool-minutes': { type: 'string' },
      'restart-beds': { type: 'string' },
      'restart-hours': { type: 'string' },
      'replay-hours': { type: 'string' },
      'soak-minutes': { type: 'string' },
      'soak-devices': { type: 'string' },
      'histories-patients': { type: 'string' },
      clients: { type: 'string' },
      profile: { type: 'boolean' },
      'gateway-node-args': { type: 'string' },
      'influx-batch-size': { type: 'string' },
      out: { type: 'string' },
      'mqtt-port': { type: 'string' },
      'http-port': { type: 'string' },
      'vm-port': { type: 'string' },
      'aedes-port': { type: 'string' },
      'free-ports': { type: 'boolean' },
    });
    const base = values.quick ? QUICK : FULL;
    const free = values['free-ports'] === true;
    const port = async (flag: string, fallback: number): Promise<number> => (values[flag as 'mqtt-port'] !== undefined ? intFlag(flag, values[flag as 'mqtt-port'], 0, 1, 65535) : free ? freePort() : fallback);
    const ports = { mqtt: await port('mqtt-port', DEFAULT_PORTS.mqtt), http: await port('http-port', DEFAULT_PORTS.http), victoria: await port('vm-port', DEFAULT_PORTS.victoria), aedes: await port('aedes-port', DEFAULT_PORTS.aedes) };
    if (new Set(Object.values(ports)).size < 4) throw new UsageError('the four ports must differ');
    const ceilingDevices = intFlag('ceiling-devices', values['ceiling-devices'], base.ceiling.devices, 0, 100_000);
    const spoolDevices = intFlag('spool-devices', values['spool-devices'], base.spool.devices, 0, 100_000);
    const restartBeds = intFlag('restart-beds', values['restart-beds'], base.restart.beds, 0, 5000);
    const replayHours = intFlag('replay-hours', values['replay-hours'], base.replay.hours, 0, 168);
    const historiesPatients = intFlag('histories-patients', values['histories-patients'], base.histories.patients, 0, 100_000);
    const soakMinutes = intFlag('soak-minutes', values['soak-minutes'], base.soak.minutes, 0, 24 * 60);
    const results = await runBench({
      ports,
      levels: values.levels !== undefined ? parseLevels(values.levels) : base.levels,
      warmupS: base.warmupS,
      windowS: intFlag('window', values.window, base.windowS, 1, 3600),
      probeEvery: base.probeEvery,
      ceiling: ceilingDevices > 0 ? { ...base.ceiling, devices: ceilingDevices, rounds: intFlag('ceiling-rounds', values['ceiling-rounds'], base.ceiling.rounds, 1, 20) } : undefined,
      spool: spoolDevices > 0 ? { devices: spoolDevices, minutes: intFlag('spool-minutes', values['spool-minutes'], base.spool.minutes, 1, 1440) } : undefined,
      restart: restartBeds > 0 ? { beds: restartBeds, hours: intFlag('restart-hours', values['restart-hours'], base.restart.hours, 1, 168) } : undefined,
      replay: replayHours > 0 ? { patients: base.replay.patients, hours: replayHours } : undefined,
      histories: historiesPatients > 0 ? { patients: historiesPatients } : undefined,
      soak: soakMinutes > 0 ? { devices: intFlag('soak-devices', values['soak-devices'], base.soak.devices, 1, 100_000), minutes: soakMinutes } : undefined,
      clientProcesses: intFlag('clients', values.clients, 2, 1, 64),
      outDir: values.out ?? 'bench-results',
      profile: values.profile === true,
      ...(values['influx-batch-size'] !== undefined ? { influxBatchSize: intFlag('influx-batch-size', values['influx-batch-size'], 5000, 1, 50_000) } : {}),
      gatewayNodeArgs: (values['gateway-node-args'] ?? '').split(/\s+/).filter((a) => a !== ''),
      write: (s) => process.stdout.write(s),
      progress: (s) => process.stderr.write(s + '\n'),
    });
    // A missed target is a finding to report, not a failure of the command.
    void results;
    return 0;
  },
};
