/**
 * Files that only the deployment's own user may read: role databases with their WAL and shared
 * memory files, and role logs. They hold group totals, refusal details and identifiers, so their
 * mode is 0600 whatever the umask (which would otherwise leave them world-readable under the
 * common 022), and a file left with a wider mode by an earlier version is narrowed when opened.
 */
import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';

export const PRIVATE_FILE_MODE = 0o600;

/** Creates `path` empty with mode 0600 if it is absent; narrows it to 0600 if it is there. */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, 'a', PRIVATE_FILE_MODE));
  chmodSync(path, PRIVATE_FILE_MODE);
}

/** Narrows `path` to 0600 if it exists. */
export function narrowIfPresent(path: string): void {
  if (existsSync(path)) chmodSync(path, PRIVATE_FILE_MODE);
}
