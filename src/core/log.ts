/**
 * Structured logging: JSON lines on stderr (stdout stays free for command output such as
 * `vigil replay`). Secrets never reach a log line: pass device ids, never credentials.
 */
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

let root: Logger = pino(
  {
    name: 'vigil',
    level: (process.env.VIGIL_LOG_LEVEL as LevelWithSilent | undefined) ?? 'info',
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['password', 'secret', 'token', '*.password', '*.secret', '*.token'], censor: '[redacted]' },
  },
  pino.destination({ fd: 2, sync: true }),
);

/** The process-wide logger. Components take a child: `log().child({ component: 'spool' })`. */
export function log(): Logger {
  return root;
}

/** Sets the level of the process-wide logger (from config `log.level`). */
export function setLogLevel(level: LevelWithSilent): void {
  root.level = level;
}

/** Replaces the process-wide logger (tests capture lines through this). */
export function setLogger(logger: Logger): void {
  root = logger;
}
