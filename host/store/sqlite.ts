/**
 * The one way a role opens its SQLite file. WAL lets the HTTP API read while the role writes;
 * synchronous=NORMAL in WAL mode keeps every commit across a crash of the process (kill -9),
 * FULL also across a power loss, at the price of an fsync per commit. The file is created 0600
 * before SQLite opens it; SQLite gives the WAL and shared-memory files the mode of the database
 * file (and corrects them for the umask), and those of an earlier run are narrowed here too.
 *
 * A file's layout is an ordered list of migrations, one per `PRAGMA user_version`: step i brings
 * the file from version i to i + 1. Files written before versions were recorded are at 0, in any
 * layout an earlier release wrote, so step 0 brings every one of those to the first version.
 * The migrations and the identity check (does this file belong to this group, key, custodian?)
 * run in one transaction: a file that is refused is left exactly as it was.
 *
 * Every file is kept compact with incremental vacuum: the pages that collection (host/store/
 * collector.ts) frees are handed back to the file system a few at a time, never in one long
 * VACUUM while the role serves. The mode is a property of the file, not of its layout, and it can
 * only be set before the first table is written or by a VACUUM, which cannot run inside the
 * migrations' transaction: a new file gets it before anything is written, a file from before it
 * is rebuilt once by a VACUUM after the migrations and the identity check passed.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { fail } from '../../firmware/errors.ts';
import { ensurePrivateFile, narrowIfPresent } from './private-file.ts';

type Db = Database.Database;

/** PRAGMA auto_vacuum's value for INCREMENTAL. */
const INCREMENTAL_VACUUM = 2;
export type Statement = Database.Statement;

/** What a part of a store (a helper owning some of its tables' queries) gets from the store: statements. */
export interface Statements {
  prepare(sql: string): Statement;
}

/** What a migration step may do to the file: read what is there and run SQL. */
export interface MigrationContext extends Statements {
  exec(sql: string): void;
}

export interface StoreLayout {
  /** Ordered: the step at index i brings the file from user_version i to i + 1. */
  migrations: readonly ((db: MigrationContext) => void)[];
  /** Refuses (store-mismatch) a file that belongs to another identity; records the identity in a new one. */
  checkIdentity(file: StoreFile): void;
}

/**
 * A role's open SQLite file: statements prepared once and reused, transactions, close. A
 * statement is shared by every caller of the same SQL text, so a mode set on it (pluck) belongs
 * to that text: use one text one way.
 */
export class StoreFile {
  private readonly statements = new Map<string, Statement>();

  private constructor(
    readonly path: string,
    private readonly db: Db,
  ) {}

  static open(path: string, layout: StoreLayout, durability: 'process' | 'power'): StoreFile {
    mkdirSync(dirname(path), { recursive: true });
    let db: Db | undefined;
    try {
      ensurePrivateFile(path);
      for (const companion of [`${path}-wal`, `${path}-shm`]) narrowIfPresent(companion);
      db = new Database(path);
      // Before WAL mode, which writes the first page: later the mode takes a VACUUM to change.
      db.pragma('auto_vacuum = INCREMENTAL');
      db.pragma('journal_mode = WAL');
    } catch (e) {
      // Not a SQLite file, or one that cannot be opened: the operator has to fix the path.
      db?.close();
      return fail('store-unreadable', `${path}: ${(e as Error).message}`);
    }
    const file = new StoreFile(path, db);
    try {
      db.pragma(`synchronous = ${durability === 'power' ? 'FULL' : 'NORMAL'}`);
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      db.transaction(() => {
        // A newer file of another role (an aggregator's file, version 2, given to the provider) is
        // named as such rather than as newer; whatever the check wrote is rolled back by the refusal.
        if ((db.pragma('user_version', { simple: true }) as number) > layout.migrations.length) layout.checkIdentity(file);
        file.migrate(layout.migrations);
        layout.checkIdentity(file);
      })();
      if ((db.pragma('auto_vacuum', { simple: true }) as number) !== INCREMENTAL_VACUUM) db.exec('VACUUM');
    } catch (error) {
      db.close();
      throw error;
    }
    return file;
  }

  private migrate(migrations: StoreLayout['migrations']): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > migrations.length)
      fail(
        'store-version',
        `${this.path} has layout version ${version}, newer than this build's ${migrations.length}: a newer meterveil wrote it`,
      );
    const context: MigrationContext = { exec: (sql) => void this.db.exec(sql), prepare: (sql) => this.db.prepare(sql) };
    for (let step = version; step < migrations.length; step++) migrations[step](context);
    if (version !== migrations.length) this.db.pragma(`user_version = ${migrations.length}`);
  }

  /** The statement for this SQL, prepared on first use. */
  prepare(sql: string): Statement {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Pages that deleted rows left free in the file. */
  freePages(): number {
    return this.db.pragma('freelist_count', { simple: true }) as number;
  }

  /** Gives at most `pages` free pages back to the file system (incremental vacuum: a short write, not a rebuild). */
  releasePages(pages: number): void {
    this.db.exec(`PRAGMA incremental_vacuum(${Math.max(1, Math.floor(pages))})`);
  }

  /** The file's size in pages (page_count), what collection keeps bounded. */
  pages(): number {
    return this.db.pragma('page_count', { simple: true }) as number;
  }

  sizeBytes(): number {
    return this.pages() * (this.db.pragma('page_size', { simple: true }) as number);
  }

  get open(): boolean {
    return this.db.open;
  }

  close(): void {
    this.db.close();
  }
}
