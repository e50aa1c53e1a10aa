/** Small argument helpers shared by the subcommands (node:util parseArgs underneath). */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Thrown for bad usage; main prints the message and the command's usage line, exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `args` strictly; unknown flags become a UsageError naming the flag. */
export function parse<O extends Options>(args: readonly string[], options: O, allowPositionals = false) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

/** Parses a whole number within bounds, naming the flag when it is not one. */
export function intFlag(name: string, value: string | undefined, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name}: "${value}" is not a whole number from ${min} to ${max}`);
  return n;
}
