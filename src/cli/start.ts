import type { Command } from './command.js';
import { parse } from './args.js';
import { loadConfig } from '../config/load.js';
import { log, setLogLevel } from '../core/log.js';
import { GATEWAY_NODE_OPTIONS, HEAP_BUDGET_BYTES, HeapGovernor, tuneHeap } from '../core/heap.js';
import { Gateway } from '../gateway.js';
import { takeSignals } from './lifecycle.js';

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the gateway from a config file',
  help: `Usage: vigil start [--config FILE]

Runs the gateway: the MQTT broker for wearables, the serial ports, the durable spool, the
InfluxDB writer, and the HTTP server (/healthz, /metrics, /api/census).

Options:
  -c, --config FILE   YAML config (default: $VIGIL_CONFIG, else built-in defaults).
                      See vigil.example.yaml for every setting.
  -h, --help          Show this help.

Environment overrides (win over the file):
  VIGIL_MQTT_PORT, VIGIL_HTTP_PORT, VIGIL_DATA_DIR,
  VIGIL_INFLUX_URL, VIGIL_INFLUX_TOKEN, VIGIL_INFLUX_ORG, VIGIL_INFLUX_BUCKET,
  VIGIL_LOG_LEVEL (overrides log.level)

Launch it with node ${GATEWAY_NODE_OPTIONS.join(' ')} (the systemd unit and the image do; it
warns when they are missing): at thousands of devices it keeps memory and alarm latency down.

Logs are JSON lines on stderr. SIGTERM or SIGINT stops accepting data, flushes to InfluxDB
as far as it can within a few seconds, fsyncs the spool and exits 0.

Exit codes: 0 stopped cleanly, 1 runtime failure, 2 bad usage, 78 bad config.

Example:
  VIGIL_INFLUX_URL=http://influx:8086 VIGIL_INFLUX_TOKEN=… vigil start -c /etc/vigil/vigil.yaml`,
  async run(args) {
    const { values } = parse(args, { config: { type: 'string', short: 'c' } });
    const file = values.config ?? process.env.VIGIL_CONFIG;
    const config = loadConfig(file);
    setLogLevel((process.env.VIGIL_LOG_LEVEL as typeof config.log.level | undefined) ?? config.log.level);
    const missing = tuneHeap();
    if (missing.length > 0) {
      log().warn({ missing, hint: `node ${missing.join(' ')} …/cli/main.js start, or NODE_OPTIONS="${missing.join(' ')}"` }, 'node options for a large ward are missing: at thousands of devices memory and alarm latency will be higher');
    }
    const MB = 1024 * 1024;
    const heap = new HeapGovernor({
      changed: (percent, held) => log().debug({ percent, heldMB: Math.round(held / MB), budgetMB: HEAP_BUDGET_BYTES / MB }, 'heap growth between full collections set'),
    });
    heap.start();
    const signals = takeSignals();
    const gateway = new Gateway(config);
    await gateway.start();
    log().info({ config: file ?? '(defaults)', dataDir: gateway.dataDir }, 'Vigil gateway started');
    return signals.runUntilSignal(async () => {
      await gateway.stop();
      heap.stop();
    });
  },
};
