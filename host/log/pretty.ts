/**
 * One JSON log line as a person reads it on a terminal: the message, after the level when it is
 * not info, and the reason when the message does not say it. Used for a role's own output on a
 * TTY and by the `start` supervisor for the lines of its children it shows.
 */

export interface LogRecord {
  level?: string;
  role?: string;
  msg?: string;
  reason?: string;
  [field: string]: unknown;
}

/** The record of a JSON log line, or undefined for any other line (a child's stray output). */
export function parseLogLine(line: string): LogRecord | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const value: unknown = JSON.parse(line);
    return value !== null && typeof value === 'object' && typeof (value as LogRecord).msg === 'string' ? (value as LogRecord) : undefined;
  } catch {
    return undefined;
  }
}

export function prettyLine(record: LogRecord): string {
  const level = record.level && record.level !== 'info' ? `${record.level.toUpperCase()} ` : '';
  const msg = record.msg ?? '';
  const reason = record.reason && !msg.includes(record.reason) ? ` (${record.reason})` : '';
  return `${level}${msg}${reason}`;
}
