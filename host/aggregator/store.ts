/**
 * The aggregator's durable state, one SQLite file per group: the running product of each open
 * (slot, key id), every (meter, slot) pair it accepted with the key of the report (the
 * de-duplication that survives restarts), closed (slot, key id) pairs with the exact aggregate
 * message (so a restart republishes the same bytes, never a recomputed or doubled one), in
 * threshold mode each accepted report as it arrived (the custodians are given them with the
 * aggregate), rejection counts, and in `meta` the last slot the aggregator closed by the clock
 * (closedThrough: every slot up to it is closed, with or without a product). During a key rotation one slot can have a product under each key; they are
 * never multiplied together.
 */
import { fail } from '../../firmware/errors.ts';
import { bindRole, bindValue, META_TABLE } from '../store/identity.ts';
import { StoreFile, type MigrationContext, type StoreLayout } from '../store/sqlite.ts';

export type SlotState = 'open' | 'closing' | 'published' | 'suppressed';

export interface OpenSlot {
  slot: number;
  keyId: string;
  product: Uint8Array;
  count: number;
}

export interface ClosedSlot {
  slot: number;
  keyId: string;
  state: SlotState;
  count: number;
  reason: string | null;
  message: Uint8Array | null;
}

const SCHEMA = `
${META_TABLE}
CREATE TABLE IF NOT EXISTS slots (
  slot INTEGER NOT NULL,
  key_id TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('open', 'closing', 'published', 'suppressed')),
  product BLOB NOT NULL,
  count INTEGER NOT NULL,
  reason TEXT,
  message BLOB,
  closed_at INTEGER,
  PRIMARY KEY (slot, key_id)
);
CREATE TABLE IF NOT EXISTS seen (
  slot INTEGER NOT NULL,
  meter_id TEXT NOT NULL,
  key_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  PRIMARY KEY (slot, meter_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rejections (reason TEXT PRIMARY KEY, count INTEGER NOT NULL);
`;

/**
 * Version 1: the layout above. A file from before versions were recorded has it already or lacks
 * some tables; one from before key rotation (one key per file, `slots` without `key_id`) cannot be
 * migrated, since its open products carry no key id.
 */
function firstLayout(path: string) {
  return (db: MigrationContext) => {
    const columns = db.prepare(`SELECT name FROM pragma_table_info('slots')`).pluck().all() as string[];
    if (columns.length > 0 && !columns.includes('key_id')) {
      fail('store-version', `${path} was written before key rotation (one key per file): let its slots drain, then move it away`);
    }
    db.exec(SCHEMA);
  };
}

/**
 * Version 2: the report as it arrived, kept in threshold mode for the custodians' evidence. A file
 * whose version was not recorded may have the column already.
 */
function reportColumn(db: MigrationContext) {
  const columns = db.prepare(`SELECT name FROM pragma_table_info('seen')`).pluck().all() as string[];
  if (!columns.includes('report')) db.exec('ALTER TABLE seen ADD COLUMN report BLOB');
}

/**
 * Version 3: suppressions by reason of slots that collection removed (host/aggregator/retention.ts),
 * so that the counts on the status topic survive the rows they were read from.
 */
function suppressionCounts(db: MigrationContext) {
  db.exec('CREATE TABLE IF NOT EXISTS suppressed (reason TEXT PRIMARY KEY, count INTEGER NOT NULL)');
}

/** The file's layout steps, by user_version (host/store/sqlite.ts). */
export const aggregatorMigrations = (path: string) => [firstLayout(path), reportColumn, suppressionCounts];

export class AggregatorStore {
  readonly db: StoreFile;

  /** A file belongs to one group: reusing it for another would mix their slots. */
  constructor(path: string, identity: { groupId: string }, durability: 'process' | 'power' = 'process') {
    const layout: StoreLayout = {
      migrations: aggregatorMigrations(path),
      checkIdentity: (file) => {
        bindRole(file, 'aggregator');
        bindValue(
          file,
          'groupId',
          identity.groupId,
          (stored) => `this aggregator store belongs to groupId ${stored}, not ${identity.groupId}`,
        );
      },
    };
    this.db = StoreFile.open(path, layout, durability);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  /** True if the pair is new (and now recorded); false if it was seen before. `report`: the message, kept in threshold mode. */
  recordSeen(slot: number, meterId: string, keyId: string, seq: number, now: number, report: Uint8Array | null = null): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO seen (slot, meter_id, key_id, seq, received_at, report) VALUES (?, ?, ?, ?, ?, ?)')
        .run(slot, meterId, keyId, seq, now, report).changes === 1
    );
  }

  /** The reports counted in (slot, keyId)'s product as they arrived, by meter id; null where none was kept. */
  reports(slot: number, keyId: string): (Uint8Array | null)[] {
    const rows = this.db
      .prepare('SELECT report FROM seen WHERE slot = ? AND key_id = ? ORDER BY meter_id')
      .pluck()
      .all(slot, keyId) as (Buffer | null)[];
    return rows.map((r) => (r ? new Uint8Array(r) : null));
  }

  hasSeen(slot: number, meterId: string): boolean {
    return this.db.prepare('SELECT 1 FROM seen WHERE slot = ? AND meter_id = ?').pluck().get(slot, meterId) !== undefined;
  }

  slotState(slot: number, keyId: string): SlotState | undefined {
    return this.db.prepare('SELECT state FROM slots WHERE slot = ? AND key_id = ?').pluck().get(slot, keyId) as SlotState | undefined;
  }

  saveOpenSlot(slot: number, keyId: string, product: Uint8Array, count: number) {
    this.db
      .prepare(
        `INSERT INTO slots (slot, key_id, state, product, count) VALUES (?, ?, 'open', ?, ?)
       ON CONFLICT (slot, key_id) DO UPDATE SET product = excluded.product, count = excluded.count WHERE state = 'open'`,
      )
      .run(slot, keyId, product, count);
  }

  openSlots(): OpenSlot[] {
    const rows = this.db.prepare(`SELECT slot, key_id, product, count FROM slots WHERE state = 'open'`).all() as {
      slot: number;
      key_id: string;
      product: Buffer;
      count: number;
    }[];
    return rows.map((r) => ({ slot: r.slot, keyId: r.key_id, product: new Uint8Array(r.product), count: r.count }));
  }

  /** Meters counted in (slot, keyId)'s product, sorted. */
  contributors(slot: number, keyId: string): string[] {
    return this.db
      .prepare('SELECT meter_id FROM seen WHERE slot = ? AND key_id = ? ORDER BY meter_id')
      .pluck()
      .all(slot, keyId) as string[];
  }

  /** A suppressed slot's kept reports are dropped with it: no custodian is ever shown them. */
  closeSlot(slot: number, keyId: string, state: 'closing' | 'suppressed', reason: string | null, message: Uint8Array | null, now: number) {
    this.transaction(() => {
      const closed = this.db
        .prepare(`UPDATE slots SET state = ?, reason = ?, message = ?, closed_at = ? WHERE slot = ? AND key_id = ? AND state = 'open'`)
        .run(state, reason, message, now, slot, keyId);
      if (closed.changes !== 1) fail('slot-not-open', `slot ${slot} under key ${keyId} is not open`);
      if (state === 'suppressed') this.dropReports(slot, keyId);
    });
  }

  private dropReports(slot: number, keyId: string): void {
    this.db.prepare('UPDATE seen SET report = NULL WHERE slot = ? AND key_id = ? AND report IS NOT NULL').run(slot, keyId);
  }

  /** The reports kept for the custodians are dropped with it: the evidence went out before the aggregate. */
  markPublished(slot: number, keyId: string) {
    this.transaction(() => {
      this.db.prepare(`UPDATE slots SET state = 'published' WHERE slot = ? AND key_id = ? AND state = 'closing'`).run(slot, keyId);
      this.dropReports(slot, keyId);
    });
  }

  /** Every slot up to this one is closed (those without a product too); -1 before the first closes. */
  closedThrough(): number {
    const value = this.db.prepare(`SELECT value FROM meta WHERE key = 'closedThrough'`).pluck().get() as string | undefined;
    return value === undefined ? -1 : Number(value);
  }

  /** Never moves back: a slot once closed stays closed. */
  setClosedThrough(slot: number): void {
    if (slot <= this.closedThrough()) return;
    this.db
      .prepare(`INSERT INTO meta (key, value) VALUES ('closedThrough', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`)
      .run(String(slot));
  }

  /** Slots closed but not yet confirmed published by the broker: publish them (again) after a restart. */
  unpublished(): { slot: number; keyId: string; message: Uint8Array }[] {
    const rows = this.db.prepare(`SELECT slot, key_id, message FROM slots WHERE state = 'closing' ORDER BY slot, key_id`).all() as {
      slot: number;
      key_id: string;
      message: Buffer;
    }[];
    return rows.map((r) => ({ slot: r.slot, keyId: r.key_id, message: new Uint8Array(r.message) }));
  }

  closedSlots(limit = 100): ClosedSlot[] {
    const rows = this.db
      .prepare(`SELECT slot, key_id, state, count, reason, message FROM slots WHERE state != 'open' ORDER BY slot DESC, key_id LIMIT ?`)
      .all(limit) as { slot: number; key_id: string; state: SlotState; count: number; reason: string | null; message: Buffer | null }[];
    return rows.map(({ key_id, ...r }) => ({ ...r, keyId: key_id, message: r.message ? new Uint8Array(r.message) : null }));
  }

  /** Suppressed (slot, key id) products by reason, kept and collected: read once at start, then counted as they close. */
  suppressions(): Record<string, number> {
    const rows = this.db
      .prepare(
        `SELECT reason, sum(n) AS n FROM (SELECT reason, count(*) AS n FROM slots WHERE state = 'suppressed' GROUP BY reason
         UNION ALL SELECT reason, count AS n FROM suppressed) GROUP BY reason ORDER BY reason`,
      )
      .all() as {
      reason: string;
      n: number;
    }[];
    return Object.fromEntries(rows.map((r) => [r.reason, r.n]));
  }

  addRejections(counts: Map<string, number>) {
    this.transaction(() => {
      const add = this.db.prepare(
        'INSERT INTO rejections (reason, count) VALUES (?, ?) ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count',
      );
      for (const [reason, n] of counts) add.run(reason, n);
    });
  }

  rejections(): Record<string, number> {
    const rows = this.db.prepare('SELECT reason, count FROM rejections ORDER BY reason').all() as { reason: string; count: number }[];
    return Object.fromEntries(rows.map((r) => [r.reason, r.count]));
  }

  close(): void {
    this.db.close();
  }
}
