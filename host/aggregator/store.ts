/**
 * The aggregator's durable state, one SQLite file per group: the running product of each open
 * (slot, key id), every (meter, slot) pair it accepted with the key of the report (the
 * de-duplication that survives restarts), closed (slot, key id) pairs with the exact aggregate
 * message (so a restart republishes the same bytes, never a recomputed or doubled one), and
 * rejection counts. During a key rotation one slot can have a product under each key; they are
 * never multiplied together.
 */
import { fail } from '../../firmware/errors.ts';
import { openDatabase, type Db } from '../store/sqlite.ts';

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
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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

export class AggregatorStore {
  readonly db: Db;
  private readonly insertSeenStmt;
  private readonly seenStmt;
  private readonly slotStateStmt;
  private readonly upsertSlotStmt;
  private readonly closeStmt;
  private readonly publishedStmt;
  private readonly contributorsStmt;
  private readonly addRejectionStmt;

  constructor(path: string, identity: { groupId: string }, durability: 'process' | 'power' = 'process') {
    this.db = openDatabase(path, durability);
    const columns = this.db.prepare(`SELECT name FROM pragma_table_info('slots')`).pluck().all() as string[];
    if (columns.length > 0 && !columns.includes('key_id')) {
      fail('store-version', `${path} was written before key rotation (one key per file): let its slots drain, then move it away`);
    }
    this.db.exec(SCHEMA);
    this.bindIdentity(identity);
    this.insertSeenStmt = this.db.prepare('INSERT OR IGNORE INTO seen (slot, meter_id, key_id, seq, received_at) VALUES (?, ?, ?, ?, ?)');
    this.seenStmt = this.db.prepare('SELECT 1 FROM seen WHERE slot = ? AND meter_id = ?').pluck();
    this.slotStateStmt = this.db.prepare('SELECT state FROM slots WHERE slot = ? AND key_id = ?').pluck();
    this.upsertSlotStmt = this.db.prepare(
      `INSERT INTO slots (slot, key_id, state, product, count) VALUES (?, ?, 'open', ?, ?)
       ON CONFLICT (slot, key_id) DO UPDATE SET product = excluded.product, count = excluded.count WHERE state = 'open'`,
    );
    this.closeStmt = this.db.prepare(
      `UPDATE slots SET state = ?, reason = ?, message = ?, closed_at = ? WHERE slot = ? AND key_id = ? AND state = 'open'`,
    );
    this.publishedStmt = this.db.prepare(`UPDATE slots SET state = 'published' WHERE slot = ? AND key_id = ? AND state = 'closing'`);
    this.contributorsStmt = this.db.prepare('SELECT meter_id FROM seen WHERE slot = ? AND key_id = ? ORDER BY meter_id').pluck();
    this.addRejectionStmt = this.db.prepare(
      'INSERT INTO rejections (reason, count) VALUES (?, ?) ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count',
    );
  }

  /** A file belongs to one group: reusing it for another would mix their slots. */
  private bindIdentity(identity: { groupId: string }) {
    for (const [key, value] of Object.entries(identity)) {
      const stored = this.db.prepare('SELECT value FROM meta WHERE key = ?').pluck().get(key) as string | undefined;
      if (stored === undefined) this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run(key, value);
      else if (stored !== value) fail('store-mismatch', `this aggregator store belongs to ${key} ${stored}, not ${value}`);
    }
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** True if the pair is new (and now recorded); false if it was seen before. */
  recordSeen(slot: number, meterId: string, keyId: string, seq: number, now: number): boolean {
    return this.insertSeenStmt.run(slot, meterId, keyId, seq, now).changes === 1;
  }

  hasSeen(slot: number, meterId: string): boolean {
    return this.seenStmt.get(slot, meterId) !== undefined;
  }

  slotState(slot: number, keyId: string): SlotState | undefined {
    return this.slotStateStmt.get(slot, keyId) as SlotState | undefined;
  }

  saveOpenSlot(slot: number, keyId: string, product: Uint8Array, count: number) {
    this.upsertSlotStmt.run(slot, keyId, product, count);
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
    return this.contributorsStmt.all(slot, keyId) as string[];
  }

  closeSlot(slot: number, keyId: string, state: 'closing' | 'suppressed', reason: string | null, message: Uint8Array | null, now: number) {
    if (this.closeStmt.run(state, reason, message, now, slot, keyId).changes !== 1)
      fail('slot-not-open', `slot ${slot} under key ${keyId} is not open`);
  }

  markPublished(slot: number, keyId: string) {
    this.publishedStmt.run(slot, keyId);
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

  addRejections(counts: Map<string, number>) {
    this.transaction(() => {
      for (const [reason, n] of counts) this.addRejectionStmt.run(reason, n);
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
