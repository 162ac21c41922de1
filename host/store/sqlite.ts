/**
 * Opens a SQLite file for one role. WAL lets the HTTP API read while the role writes;
 * synchronous=NORMAL in WAL mode keeps every commit across a crash of the process (kill -9),
 * FULL also across a power loss, at the price of an fsync per commit.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { fail } from '../../firmware/errors.ts';

export type Db = Database.Database;

export function openDatabase(path: string, durability: 'process' | 'power' = 'process'): Db {
  mkdirSync(dirname(path), { recursive: true });
  let db: Db | undefined;
  try {
    db = new Database(path);
    db.pragma('journal_mode = WAL');
  } catch (e) {
    // Not a SQLite file, or one that cannot be opened: the operator has to fix the path.
    db?.close();
    return fail('store-unreadable', `${path}: ${(e as Error).message}`);
  }
  db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}
