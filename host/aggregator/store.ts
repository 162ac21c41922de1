/**
 * The aggregator's durable state, one SQLite file per group: the running product of each open
 * slot, every (meter, slot) pair it accepted (the de-duplication that survives restarts), closed
 * slots with the exact aggregate message (so a restart republishes the same bytes, never a
 * recomputed or doubled one), and rejection counts.
 */
import { fail } from '../../firmware/errors.ts';
import { openDatabase, type Db } from '../store/sqlite.ts';

export type SlotState = 'open' | 'closing' | 'published' | 'suppressed';

export interface OpenSlot {
  product: Uint8Array;
  count: number;
}

export interface ClosedSlot {
  slot: number;
  state: SlotState;
  count: number;
  reason: string | null;
  message: Uint8Array | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS slots (
  slot INTEGER PRIMARY KEY,
  state TEXT NOT NULL CHECK (state IN ('open', 'closing', 'published', 'suppressed')),
  product BLOB NOT NULL,
  count INTEGER NOT NULL,
  reason TEXT,
  message BLOB,
  closed_at INTEGER
);
CREATE TABLE IF NOT EXISTS seen (
  slot INTEGER NOT NULL,
  meter_id TEXT NOT NULL,
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

  constructor(path: string, identity: { groupId: string; keyId: string }, durability: 'process' | 'power' = 'process') {
    this.db = openDatabase(path, durability);
    this.db.exec(SCHEMA);
    this.bindIdentity(identity);
    this.insertSeenStmt = this.db.prepare('INSERT OR IGNORE INTO seen (slot, meter_id, seq, received_at) VALUES (?, ?, ?, ?)');
    this.seenStmt = this.db.prepare('SELECT 1 FROM seen WHERE slot = ? AND meter_id = ?').pluck();
    this.slotStateStmt = this.db.prepare('SELECT state FROM slots WHERE slot = ?').pluck();
    this.upsertSlotStmt = this.db.prepare(
      `INSERT INTO slots (slot, state, product, count) VALUES (?, 'open', ?, ?)
       ON CONFLICT (slot) DO UPDATE SET product = excluded.product, count = excluded.count WHERE state = 'open'`,
    );
    this.closeStmt = this.db.prepare(`UPDATE slots SET state = ?, reason = ?, message = ?, closed_at = ? WHERE slot = ? AND state = 'open'`);
    this.publishedStmt = this.db.prepare(`UPDATE slots SET state = 'published' WHERE slot = ? AND state = 'closing'`);
    this.contributorsStmt = this.db.prepare('SELECT meter_id FROM seen WHERE slot = ? ORDER BY meter_id').pluck();
    this.addRejectionStmt = this.db.prepare(
      'INSERT INTO rejections (reason, count) VALUES (?, ?) ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count',
    );
  }

  /** A file belongs to one group and one key: reusing it for another would mix their slots. */
  private bindIdentity(identity: { groupId: string; keyId: string }) {
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
  recordSeen(slot: number, meterId: string, seq: number, now: number): boolean {
    return this.insertSeenStmt.run(slot, meterId, seq, now).changes === 1;
  }

  hasSeen(slot: number, meterId: string): boolean {
    return this.seenStmt.get(slot, meterId) !== undefined;
  }

  slotState(slot: number): SlotState | undefined {
    return this.slotStateStmt.get(slot) as SlotState | undefined;
  }

  saveOpenSlot(slot: number, product: Uint8Array, count: number) {
    this.upsertSlotStmt.run(slot, product, count);
  }

  openSlots(): Map<number, OpenSlot> {
    const rows = this.db.prepare(`SELECT slot, product, count FROM slots WHERE state = 'open'`).all() as { slot: number; product: Buffer; count: number }[];
    return new Map(rows.map((r) => [r.slot, { product: new Uint8Array(r.product), count: r.count }]));
  }

  contributors(slot: number): string[] {
    return this.contributorsStmt.all(slot) as string[];
  }

  closeSlot(slot: number, state: 'closing' | 'suppressed', reason: string | null, message: Uint8Array | null, now: number) {
    if (this.closeStmt.run(state, reason, message, now, slot).changes !== 1) fail('slot-not-open', `slot ${slot} is not open`);
  }

  markPublished(slot: number) {
    this.publishedStmt.run(slot);
  }

  /** Slots closed but not yet confirmed published by the broker: publish them (again) after a restart. */
  unpublished(): { slot: number; message: Uint8Array }[] {
    const rows = this.db.prepare(`SELECT slot, message FROM slots WHERE state = 'closing' ORDER BY slot`).all() as { slot: number; message: Buffer }[];
    return rows.map((r) => ({ slot: r.slot, message: new Uint8Array(r.message) }));
  }

  closedSlots(limit = 100): ClosedSlot[] {
    const rows = this.db
      .prepare(`SELECT slot, state, count, reason, message FROM slots WHERE state != 'open' ORDER BY slot DESC LIMIT ?`)
      .all(limit) as { slot: number; state: SlotState; count: number; reason: string | null; message: Buffer | null }[];
    return rows.map((r) => ({ ...r, message: r.message ? new Uint8Array(r.message) : null }));
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
