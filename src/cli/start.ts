import type { Command } from './command.js';
import { parse } from './args.js';
import { loadConfig } from '../config/load.js';
import { log, setLogLevel } from '../core/log.js';
import { Gateway } from '../gateway.js';
import { runUntilSignal } from './lifecycle.js';

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
    const gateway = new Gateway(config);
    await gateway.start();
    log().info({ config: file ?? '(defaults)', dataDir: gateway.dataDir }, 'Vigil gateway started');
    return runUntilSignal(() => gateway.stop());
  },
};
