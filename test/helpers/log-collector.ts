/** A role's log held in memory, for a test to read what it logged and with which fields. */
import type { RoleLog } from '../../host/log/logger.ts';

export interface Logged {
  level: 'error' | 'warn' | 'info' | 'debug';
  fields: Record<string, unknown>;
  msg: string;
}

export function logCollector(): { log: RoleLog; logged: Logged[] } {
  const logged: Logged[] = [];
  const at =
    (level: Logged['level']) =>
    (fields: unknown, msg?: string): void => {
      if (typeof fields === 'string') logged.push({ level, fields: {}, msg: fields });
      else logged.push({ level, fields: fields as Record<string, unknown>, msg: msg ?? '' });
    };
  return { log: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } as RoleLog, logged };
}
