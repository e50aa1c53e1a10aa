/** `vigil replay FILE.jsonl`: the detector and alarm pipeline over a recording, in virtual time. */
import { createReadStream, promises as fs } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../core/errors.js';
import { defaultDetectorConfig, parseDetectorConfig, type DetectorConfig } from '../detectors/config.js';
import { linesOf, runReplay } from '../replay/run.js';
import type { Command } from './command.js';

const help = `Usage: vigil replay FILE.jsonl [--config FILE.yaml] [--summary]

Runs the same detectors (limits, NEWS2, trend, technical) and alarm manager as the gateway over a
recording, in virtual time and as fast as the CPU allows, and prints what happened as JSON lines
on stdout. A progress bar goes to stderr when it is a terminal.

Input, one JSON object per line, ordered by "ts" (ISO 8601 or epoch ms):
  {"ts":"2026-03-02T08:00:02Z","patient":"P1","metric":"spo2","value":93,"device":"ox1"}
  {"ts":"2026-03-02T08:00:03Z","patient":"P1","values":{"hr":72,"spo2":93},"device":"mon1"}
  {"ts":"2026-03-02T08:00:05Z","patient":"P2","settings":{"spo2Scale":2,"limits":{"spo2":{"low":88}}}}
  {"ts":"2026-03-02T08:00:09Z","patient":"P1","device":"ox1","event":"sensor_off"}
  {"ts":"2026-03-02T08:02:00Z","ack":"P1:limit:spo2:low:1","by":"nurse.kim"}
  Metrics: hr pr spo2 rr temp sbp dbp map o2 acvpu pi battery. acvpu is "A","C","V","P","U";
  o2 is 0 for air, 1 for supplemental oxygen. "quality" ("good", "poor", "invalid") defaults to good.
  A "values" line is a reading: the values of one device message, which NEWS2 scores together
  (as the gateway does), its qualities as "quality":{"spo2":"poor"}; a "metric" line is one value.
  A bad line is reported on stderr with its line number and skipped.

Output:
  {"ts":...,"patient":"P1","type":"news2","score":5,"band":"medium","complete":true,"missing":[],"parts":{...}}
    whenever a patient's NEWS2 score, band or completeness changes;
  {"ts":...,"patient":"P1","type":"alarm","id":...,"kind":"limit|news2|trend|technical","metric":...,
   "priority":"high|medium|low","state":"raised|escalated|acknowledged|cleared|resolved","reason":...}
    for every alarm transition.

Options:
  --config FILE   YAML file whose "detectors:" section sets limits, delays, NEWS2 staleness,
                  trend, technical and escalation settings (other keys are ignored).
                  Default: built-in adult-ward defaults.
  --summary       Print a table instead of events: alarms per patient-day by kind and priority,
                  and time in alarm per patient.
  -h, --help      This text.

Exit status: 0 when the recording was replayed (bad lines are reported and skipped), 2 for bad
usage or an unreadable file, 78 for a bad config.

Timeouts (delays, staleness, signal loss, escalation) fire in data time; the replay ends at the
last line, so deadlines after it do not fire.

Example:
  vigil replay ward3-2026-03-02.jsonl --config /etc/vigil/vigil.yaml --summary`;

interface Args {
  file: string;
  config?: string;
  summary: boolean;
}

function parseArgs(args: readonly string[]): Args | 'help' | string {
  let file: string | undefined;
  let config: string | undefined;
  let summary = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-h' || a === '--help') return 'help';
    if (a === '--summary') summary = true;
    else if (a === '--config' || a.startsWith('--config=')) {
      config = a === '--config' ? args[++i] : a.slice('--config='.length);
      if (!config) return '--config needs a file';
    } else if (a.startsWith('-') && a !== '-') return `unknown option ${a}`;
    else if (file === undefined) file = a;
    else return `unexpected argument ${a}`;
  }
  if (file === undefined) return 'missing FILE.jsonl';
  return { file, summary, ...(config !== undefined && { config }) };
}

/** Reads the `detectors:` section of a YAML config file; defaults when it has none. */
export async function loadReplayConfig(path: string): Promise<DetectorConfig> {
  let doc: unknown;
  try {
    doc = parseYaml(await fs.readFile(path, 'utf8'));
  } catch (e) {
    throw new ConfigError(`${path}: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return defaultDetectorConfig();
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ConfigError(`${path}: expected a mapping at the top level`);
  try {
    return parseDetectorConfig((doc as Record<string, unknown>).detectors);
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigError(`${path}: ${e.message}`, e.issues);
    throw e;
  }
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'Run the detectors and alarm manager over a JSONL recording in virtual time',
  help,
  async run(argv) {
    const args = parseArgs(argv);
    if (args === 'help') {
      process.stdout.write(help + '\n');
      return 0;
    }
    if (typeof args === 'string') {
      process.stderr.write(`vigil replay: ${args} (see vigil replay --help)\n`);
      return 2;
    }
    // a bad config throws ConfigError, which the CLI reports with its settings paths
    const config = args.config ? await loadReplayConfig(args.config) : defaultDetectorConfig();
    let size: number | undefined;
    if (args.file !== '-') {
      try {
        size = (await fs.stat(args.file)).size;
      } catch (e) {
        process.stderr.write(`vigil replay: cannot read ${args.file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}\n`);
        return 2;
      }
    }
    const stream = args.file === '-' ? process.stdin.setEncoding('utf8') : createReadStream(args.file, { encoding: 'utf8', highWaterMark: 1 << 20 });
    const lines = linesOf(stream);
    // `vigil replay x.jsonl | head`: a closed stdout ends the replay quietly
    const onError = (e: NodeJS.ErrnoException): void => {
      if (e.code !== 'EPIPE') throw e;
      stream.destroy();
    };
    process.stdout.on('error', onError);
    await runReplay(
      lines,
      {
        config,
        summary: args.summary,
        source: args.file === '-' ? 'stdin' : args.file,
        ...(process.stderr.isTTY && size !== undefined && { progressBytes: size }),
      },
      { out: process.stdout, err: process.stderr },
    ).finally(() => process.stdout.off('error', onError));
    return 0;
  },
};
