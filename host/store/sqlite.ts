/**
 * Opens a SQLite file for one role. WAL lets the HTTP API read while the role writes;
 * synchronous=NORMAL in WAL mode keeps every commit across a crash of the process (kill -9),
 * FULL also across a power loss, at the price of an fsync per commit.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

export function openDatabase(path: string, durability: 'process' | 'power' = 'process'): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return db;
}
