import type { Command } from './command.js';
import { parse } from './args.js';
import { loadConfig } from '../config/load.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'Validate a config file without starting anything',
  help: `Usage: vigil check [--config FILE]

Loads and validates the config (with VIGIL_* environment overrides applied) and prints a
summary, or every problem as "setting.path: message". Exit 0 when valid, 78 when not.

Options:
  -c, --config FILE   YAML config (default: $VIGIL_CONFIG, else built-in defaults).`,
  async run(args) {
    const { values } = parse(args, { config: { type: 'string', short: 'c' } });
    const file = values.config ?? process.env.VIGIL_CONFIG;
    const c = loadConfig(file);
    process.stdout.write(
      `${file ?? 'built-in defaults'}: valid\n` +
        `  mqtt ${c.mqtt.host}:${c.mqtt.port}${c.mqtt.tls ? ` (TLS ${c.mqtt.tls.port})` : ''}, http ${c.http.host}:${c.http.port}\n` +
        `  ${c.devices.length} MQTT device(s), ${c.serial.length} serial port(s), ${c.census.wards.length} ward(s), ${c.census.patients.length} patient(s)\n` +
        `  data dir ${c.dataDir}, InfluxDB ${c.influx.url ?? 'not configured (data stays in the spool)'}\n`,
    );
    return 0;
  },
};
