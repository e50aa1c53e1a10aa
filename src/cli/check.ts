import type { Command } from './command.js';
import { parse } from './args.js';
import { loadConfig } from '../config/load.js';
import { ConfigError } from '../core/errors.js';
import { userInfo } from 'node:os';
import { preflight, whoAmI } from './preflight.js';

export const checkCommand: Command = {
  name: 'check',
  summary: 'Validate a config file, and what start needs from this machine, without starting anything',
  help: `Usage: vigil check [--config FILE]

Loads and validates the config (with VIGIL_* environment overrides applied), then checks what
"vigil start" would refuse on this machine as the user running the check: device profiles and
secret hashes, the users file (web.usersFile) and TLS files it must read, the data directory it
must write, the nurse-station pages. Prints a summary, or every problem as "setting: message".
Exit 0 when start would accept it, 78 when not.

Run it as the service user to see what the service will see:
  sudo -u vigil vigil check -c /etc/vigil/vigil.yaml

Options:
  -c, --config FILE   YAML config (default: $VIGIL_CONFIG, else built-in defaults).`,
  async run(args) {
    const { values } = parse(args, { config: { type: 'string', short: 'c' } });
    const file = values.config ?? process.env.VIGIL_CONFIG;
    const c = loadConfig(file);
    const { errors, warnings } = preflight(c);
    for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
    if (errors.length > 0) {
      throw new ConfigError(`${file ?? 'built-in defaults'}: valid, but start would refuse it (checked as ${whoAmI()}):\n  ${errors.join('\n  ')}`, errors);
    }
    process.stdout.write(
      `${file ?? 'built-in defaults'}: valid\n` +
        `  mqtt ${c.mqtt.host}:${c.mqtt.port}${c.mqtt.tls ? ` (TLS ${c.mqtt.tls.port})` : ''}, http ${c.http.host}:${c.http.port}\n` +
        `  ${c.devices.length} MQTT device(s), ${c.serial.length} serial port(s), ${c.census.wards.length} ward(s), ${c.census.patients.length} patient(s)\n` +
        `  data dir ${c.dataDir}, InfluxDB ${c.influx.url ?? 'not configured (data stays in the spool)'}\n` +
        `  users file ${c.web.usersFile ?? 'none (web.users only)'}\n` +
        `  checked as ${whoAmI()}${userInfo().uid === 0 ? ', who can read and write anything: check as the service user too (sudo -u vigil vigil check -c FILE)' : ''}\n`,
    );
    return 0;
  },
};
