#!/usr/bin/env node
/**
 * `vigil`: the command-line entry point. It only dispatches; each subcommand is its own file.
 */
import '../core/quiet-debug.js'; // first: before any module loads the MQTT codec
import type { Command } from './command.js';
import { UsageError } from './args.js';
import { ConfigError } from '../core/errors.js';
import { startCommand } from './start.js';
import { checkCommand } from './check.js';
import { deviceCommand, profilesCommand } from './device.js';
import { commandsFromFeatures } from './features.js';

const EXIT_USAGE = 2;
const EXIT_CONFIG = 78;

export const commands: readonly Command[] = [startCommand, ...commandsFromFeatures, checkCommand, deviceCommand, profilesCommand];

function topHelp(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return `Vigil: edge gateway for remote patient monitoring.

Usage: vigil <command> [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run "vigil <command> --help" for a command's options.
Quick look: "vigil demo" runs a simulated ward on this machine.`;
}

export async function main(argv: readonly string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(topHelp() + '\n');
    return name === undefined ? EXIT_USAGE : 0;
  }
  if (name === '--version' || name === '-V') {
    process.stdout.write('vigil 0.1.0\n');
    return 0;
  }
  const cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`vigil: unknown command "${name}". Commands: ${commands.map((c) => c.name).join(', ')}\n`);
    return EXIT_USAGE;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(cmd.help + '\n');
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vigil ${cmd.name}: ${err.message}\nRun "vigil ${cmd.name} --help" for usage.\n`);
      return EXIT_USAGE;
    }
    if (err instanceof ConfigError) {
      process.stderr.write(`vigil ${cmd.name}: configuration error\n${err.message}\n`);
      return EXIT_CONFIG;
    }
    process.stderr.write(`vigil ${cmd.name}: ${(err as Error).message}\n`);
    if (process.env.VIGIL_DEBUG) process.stderr.write(`${(err as Error).stack}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Let stdout drain naturally; if a stray handle keeps the loop alive, leave anyway.
    process.exitCode = code;
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (err: Error) => {
    process.stderr.write(`vigil: ${err.message}\n`);
    process.exit(1);
  },
);
