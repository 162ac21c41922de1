/**
 * A custodian's own durable record (SQLite): every (group, slot) it helped decrypt, with the
 * contributor set and the partial it gave, every refusal, and the hashes of the aggregates it saw
 * an aggregator publish (so that a restart between seeing one and being asked does not turn a
 * request into an `unverified-aggregate` refusal). The policy is checked against this
 * record, never against what the provider says it has done.
 */
import { openDatabase, type Db } from '../store/sqlite.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS helped (
  group_id TEXT NOT NULL, slot INTEGER NOT NULL, contributors TEXT NOT NULL, aggregate_hash TEXT NOT NULL,
  partial TEXT NOT NULL, helped_at INTEGER NOT NULL, PRIMARY KEY (group_id, slot));
CREATE INDEX IF NOT EXISTS helped_by_slot ON helped (slot);
CREATE TABLE IF NOT EXISTS seen (aggregate_hash TEXT PRIMARY KEY, seen_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_by_time ON seen (seen_at);
CREATE TABLE IF NOT EXISTS refusals (
  id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, group_id TEXT NOT NULL, slot INTEGER NOT NULL,
  reason TEXT NOT NULL, detail TEXT NOT NULL, received_at INTEGER NOT NULL);
`;

export interface HelpedRow {
  groupId: string;
  slot: number;
  contributors: string[];
  aggregateHash: string;
  /** The partial decryption as JSON text, sent again if the same aggregate is asked for again. */
  partial: string;
  helpedAt: number;
}

export class CustodianStore {
  private readonly db: Db;

  /** One store per key share: opening it with another key or custodian index is refused. */
  constructor(path: string, identity: { keyId: string; index: number }, durability: 'process' | 'power' = 'power') {
    this.db = openDatabase(path, durability);
    this.db.exec(SCHEMA);
    const expected = `${identity.keyId}/${identity.index}`;
    const stored = this.db.prepare(`SELECT value FROM meta WHERE key = 'share'`).pluck().get() as string | undefined;
    if (stored === undefined) this.db.prepare(`INSERT INTO meta (key, value) VALUES ('share', ?)`).run(expected);
    else if (stored !== expected) throw new Error(`store-mismatch: this custodian store belongs to share ${stored}, not ${expected}`);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  helped(groupId: string, slot: number): HelpedRow | undefined {
    const r = this.db.prepare('SELECT * FROM helped WHERE group_id = ? AND slot = ?').get(groupId, slot) as
      | { group_id: string; slot: number; contributors: string; aggregate_hash: string; partial: string; helped_at: number }
      | undefined;
    return r && { groupId: r.group_id, slot: r.slot, contributors: JSON.parse(r.contributors), aggregateHash: r.aggregate_hash, partial: r.partial, helpedAt: r.helped_at };
  }

  /** Contributor sets of everything this custodian helped decrypt for the slot, in every group. */
  helpedSetsForSlot(slot: number): string[][] {
    return (this.db.prepare('SELECT contributors FROM helped WHERE slot = ?').pluck().all(slot) as string[]).map((s) => JSON.parse(s));
  }

  insertHelped(row: HelpedRow): void {
    this.db
      .prepare('INSERT INTO helped (group_id, slot, contributors, aggregate_hash, partial, helped_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(row.groupId, row.slot, JSON.stringify(row.contributors), row.aggregateHash, row.partial, row.helpedAt);
  }

  /** Records that an aggregator published this aggregate, and forgets those seen before `forgetBefore`. */
  noteSeen(aggregateHash: string, at: number, forgetBefore: number): void {
    this.db.prepare('INSERT OR REPLACE INTO seen (aggregate_hash, seen_at) VALUES (?, ?)').run(aggregateHash, at);
    this.db.prepare('DELETE FROM seen WHERE seen_at < ?').run(forgetBefore);
  }

  wasSeen(aggregateHash: string): boolean {
    return this.db.prepare('SELECT 1 FROM seen WHERE aggregate_hash = ?').get(aggregateHash) !== undefined;
  }

  insertRefusal(r: { requestId: string; groupId: string; slot: number; reason: string; detail: string; receivedAt: number }): void {
    this.db
      .prepare('INSERT INTO refusals (request_id, group_id, slot, reason, detail, received_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(r.requestId, r.groupId, r.slot, r.reason, r.detail, r.receivedAt);
  }

  refusalReasons(): string[] {
    return this.db.prepare('SELECT reason FROM refusals ORDER BY id').pluck().all() as string[];
  }

  close(): void {
    this.db.close();
  }
}
