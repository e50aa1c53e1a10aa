/**
 * `vigil burden`: alarms Vigil raises against a naive threshold alarm on simulated patients, and
 * whether and when each true clinical event was alarmed. See docs/alarm-burden.md.
 */
import { ConfigError } from '../core/errors.js';
import { defaultDetectorConfig } from '../detectors/config.js';
import { BURDEN_SCENARIOS, alarmBurden } from '../burden/burden.js';
import { renderBurden } from '../burden/burden-report.js';
import { intFlag, parse, UsageError } from './args.js';
import type { Command } from './command.js';
import { loadReplayConfig } from './replay.js';

const help = `Usage: vigil burden [--scenario NAME…] [--hours H] [--seed N] [--interval S] [--config FILE] [--json]

Runs simulated patients (a json-v1 wearable and an NIBP cuff each, decoded by the gateway's own
ingest) through Vigil's detectors and alarm manager, and through a naive threshold alarm that
uses the same limits without delay, hysteresis or signal-quality gating. Prints, as markdown:

  - alarms raised per scenario: naive threshold against Vigil, and Vigil by kind and priority;
  - each true event of the scenario: when the noise-free scenario first met an alarm criterion,
    and whether Vigil and the naive threshold alarmed, how long after the event's onset.

Everything runs in virtual time: a day per scenario takes about a second.

Options:
  --scenario NAME   A built-in scenario or a scenario file; repeat for several.
                    Default: ${BURDEN_SCENARIOS.join(', ')}.
  --hours H         Hours of device time per scenario, up to 168 (default 24).
  --seed N          Seed of the simulated patient (default 1).
  --interval S      Seconds between the wearable's publishes (default 5).
  --config FILE     YAML file whose "detectors:" section sets limits and delays, for Vigil and
                    the naive threshold alike (default: built-in adult-ward defaults).
  --json            Print the results as JSON instead of tables.
  -h, --help        This text.

Example:
  vigil burden --scenario artifact-storm --scenario stable --hours 8 --seed 3`;

export const burdenCommand: Command = {
  name: 'burden',
  summary: 'Compare the alarms Vigil raises with a naive threshold on simulated patients',
  help,
  async run(argv) {
    const { values } = parse(argv, {
      scenario: { type: 'string', multiple: true },
      hours: { type: 'string' },
      seed: { type: 'string' },
      interval: { type: 'string' },
      config: { type: 'string' },
      json: { type: 'boolean' },
    });
    const hours = values.hours === undefined ? 24 : Number(values.hours);
    if (!Number.isFinite(hours) || hours <= 0 || hours > 168) throw new UsageError(`--hours: "${values.hours}" is not a number of hours above 0 and up to 168`);
    const seed = intFlag('seed', values.seed, 1, 0, 2 ** 32 - 1);
    const intervalS = intFlag('interval', values.interval, 5, 1, 3600);
    const scenarios = values.scenario ?? [...BURDEN_SCENARIOS];
    const config = values.config !== undefined ? await loadReplayConfig(values.config) : defaultDetectorConfig();
    let results;
    try {
      results = await alarmBurden(scenarios, { config, hours, seed, intervalS });
    } catch (e) {
      // an unknown scenario is a usage mistake; a broken scenario file stays a config error
      if (e instanceof ConfigError && e.message.startsWith('unknown scenario')) throw new UsageError(e.message);
      throw e;
    }
    if (values.json) {
      process.stdout.write(JSON.stringify(results, null, 2) + '\n');
      return 0;
    }
    process.stdout.write(`Alarm burden: ${hours} h of device time per scenario, seed ${seed}, wearable every ${intervalS} s\n\n${renderBurden(results)}`);
    return 0;
  },
};
