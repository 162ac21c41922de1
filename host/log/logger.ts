/**
 * The roles' structured logs (pino): one JSON line per event on stdout, with the role and, where
 * they apply, group, slot and reason as fields, so that a log collector can select on them. On a
 * terminal the lines are pretty instead (host/log/pretty.ts). Nothing logged is a reading or a
 * meter's total: a group's decrypted total is the product and may be logged at info.
 *
 * The level comes from --log-level or METERVEIL_LOG_LEVEL (default info); `start` hands it to
 * its children through the environment.
 */
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { fail } from '../../firmware/errors.ts';
import { parseLogLine, prettyLine, type LogRecord } from './pretty.ts';

export const LOG_LEVEL_ENV = 'METERVEIL_LOG_LEVEL';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** What roles log through: pino's logger, or anything with its four methods (a test's collector). */
export type RoleLog = Pick<Logger, Extract<Level, 'error' | 'warn' | 'info' | 'debug'>>;

export function parseLogLevel(text: string, what: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(text)) fail('bad-argument', `${what} must be one of ${LOG_LEVELS.join(', ')}`);
  return text as LogLevel;
}

/** The level for this process: --log-level, once the command line set it here, else the environment, else info. */
export function logLevel(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const text = env[LOG_LEVEL_ENV];
  return text === undefined || text === '' ? 'info' : parseLogLevel(text, LOG_LEVEL_ENV);
}

/** A destination that writes each line pretty, synchronously. */
function prettyStdout(): DestinationStream {
  return {
    write(line: string) {
      const record = parseLogLine(line.trimEnd());
      process.stdout.write(record ? `${prettyLine(record)}\n` : line);
    },
  };
}

/** The logger of one role process (or of `start`), JSON on stdout, pretty on a terminal. */
export function roleLogger(role: string, bindings: Record<string, string | number> = {}): Logger {
  return pino(
    {
      level: logLevel(),
      base: { role, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    // Synchronous: a line written just before the process exits is not lost.
    process.stdout.isTTY ? prettyStdout() : pino.destination({ fd: 1, sync: true }),
  );
}

/** A logger that drops everything: the default of a role run inside a test or a benchmark. */
export const silentLog: RoleLog = { error() {}, warn() {}, info() {}, debug() {} };

/** Passes on a child's JSON log line: as it came into a pipe or a file, pretty on a terminal. */
export function forwardLogLine(line: string, record: LogRecord): void {
  process.stdout.write(process.stdout.isTTY ? `${prettyLine(record)}\n` : `${line}\n`);
}
