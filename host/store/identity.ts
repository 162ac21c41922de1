/**
 * A role's file records whose it is in its `meta` table (key TEXT PRIMARY KEY, value TEXT): the
 * first open writes the identity, every later open must match it, so that a file copied to the
 * wrong role, group or deployment is refused (store-mismatch) before anything is read from it.
 */
import { fail } from '../../firmware/errors.ts';
import type { StoreFile } from './sqlite.ts';

export const META_TABLE = 'CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);';

/**
 * The role whose file it is, so that a file given to another role is refused even where the rest
 * of its identity would pass. Files written before roles were recorded get theirs on next open.
 */
export function bindRole(file: StoreFile, role: 'aggregator' | 'provider' | 'custodian'): void {
  bindValue(file, 'role', role, (stored) => `this is the ${stored}'s store, not the ${role}'s`);
}

/**
 * For a tool that works on a role's existing file without being that role (`meterveil gc`): the
 * file must say it is the role's; nothing is recorded.
 */
export function requireRole(file: StoreFile, role: 'aggregator' | 'provider' | 'custodian'): void {
  const stored = file.prepare(`SELECT value FROM meta WHERE key = 'role'`).pluck().get() as string | undefined;
  if (stored === undefined) fail('store-mismatch', `${file.path} does not record its role yet: run the ${role} on it once`);
  if (stored !== role) fail('store-mismatch', `this is the ${stored}'s store, not the ${role}'s`);
}

/** A value the file must hold exactly: an aggregator's group, a custodian's index. */
export function bindValue(file: StoreFile, key: string, value: string, describe: (stored: string) => string): void {
  const stored = file.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
  if (stored === undefined) file.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);
  else if (stored !== value) fail('store-mismatch', describe(stored));
}

/**
 * Key ids (meta 'keyId.<id>'; 'keyId' in files written before key rotation): the file belongs to
 * one deployment, so the ids in use now must share at least one with those it has served; a key
 * rotation shares the old key while both are held. New ids are recorded.
 */
export function bindKeyIds(file: StoreFile, keyIds: readonly string[], what: string): void {
  const stored = file.prepare(`SELECT value FROM meta WHERE key = 'keyId' OR key LIKE 'keyId.%'`).pluck().all() as string[];
  if (stored.length > 0 && !keyIds.some((id) => stored.includes(id)))
    fail('store-mismatch', `this ${what} belongs to key ${stored.join(', ')}, not ${keyIds.join(', ')}`);
  for (const id of keyIds) file.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)').run(`keyId.${id}`, id);
}
