/**
 * A custodian's own durable record (SQLite): every (group, slot, key id) it helped decrypt, with
 * the contributor set and the partial it gave (during a key rotation a slot may come in parts
 * under two keys), every refusal, and the hashes of the aggregates it saw
 * an aggregator publish (so that a restart between seeing one and being asked does not turn a
 * request into an `unverified-aggregate` refusal). The policy is checked against this
 * record, never against what the provider says it has done.
 */
import type { ContributorSet } from '../policy/disclosure.ts';
import { bindKeyIds, bindRole, bindValue, META_TABLE } from '../store/identity.ts';
import { StoreFile, type MigrationContext } from '../store/sqlite.ts';

const HELPED = `
CREATE TABLE IF NOT EXISTS helped (
  group_id TEXT NOT NULL, slot INTEGER NOT NULL, key_id TEXT NOT NULL, contributors TEXT NOT NULL, aggregate_hash TEXT NOT NULL,
  partial TEXT NOT NULL, helped_at INTEGER NOT NULL, PRIMARY KEY (group_id, slot, key_id));
CREATE INDEX IF NOT EXISTS helped_by_slot ON helped (slot);`;

/**
 * A record written when a custodian held one share: the key id moves from meta 'share'
 * ("<keyId>/<index>") to one row per key, and each helped row takes the key id of its partial.
 */
function addKeyIds(db: MigrationContext): void {
  const columns = db.prepare(`SELECT name FROM pragma_table_info('helped')`).pluck().all() as string[];
  if (columns.length === 0 || columns.includes('key_id')) return;
  db.exec('ALTER TABLE helped RENAME TO helped_without_key; DROP INDEX IF EXISTS helped_by_slot;');
  db.exec(HELPED);
  db.exec(`INSERT INTO helped SELECT group_id, slot, json_extract(partial, '$.keyId'), contributors, aggregate_hash, partial, helped_at
    FROM helped_without_key; DROP TABLE helped_without_key;`);
  const share = db.prepare(`SELECT value FROM meta WHERE key = 'share'`).pluck().get() as string | undefined;
  if (share === undefined) return;
  const [keyId, index] = share.split('/');
  db.prepare(`INSERT INTO meta (key, value) VALUES ('index', ?), (?, ?)`).run(index, `keyId.${keyId}`, keyId);
  db.prepare(`DELETE FROM meta WHERE key = 'share'`).run();
}

const SCHEMA = `
${META_TABLE}
${HELPED}
CREATE TABLE IF NOT EXISTS seen (aggregate_hash TEXT PRIMARY KEY, seen_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS seen_by_time ON seen (seen_at);
CREATE TABLE IF NOT EXISTS refusals (
  id INTEGER PRIMARY KEY, request_id TEXT NOT NULL, group_id TEXT NOT NULL, slot INTEGER NOT NULL,
  reason TEXT NOT NULL, detail TEXT NOT NULL, received_at INTEGER NOT NULL);
`;

export interface HelpedRow {
  groupId: string;
  slot: number;
  keyId: string;
  contributors: string[];
  aggregateHash: string;
  /** The partial decryption as JSON text, sent again if the same aggregate is asked for again. */
  partial: string;
  helpedAt: number;
}

/**
 * Version 1: the layout above. A file from before versions were recorded has it, lacks some
 * tables, or was written when a custodian held one share (addKeyIds).
 */
export const CUSTODIAN_MIGRATIONS = [
  (db: MigrationContext) => {
    addKeyIds(db);
    db.exec(SCHEMA);
  },
];

export class CustodianStore {
  /** The file itself, for collection (host/custodian/retention.ts). */
  readonly db: StoreFile;

  /**
   * One store per custodian: it records its index and every key it has held shares of (meta
   * 'keyId.<id>'). Another index, or a set of keys sharing none with the record (another
   * deployment's), is refused; a rotation shares the old key while both are held.
   */
  constructor(path: string, identity: { keyIds: readonly string[]; index: number }, durability: 'process' | 'power' = 'power') {
    const index = String(identity.index);
    this.db = StoreFile.open(
      path,
      {
        migrations: CUSTODIAN_MIGRATIONS,
        checkIdentity: (file) => {
          bindRole(file, 'custodian');
          bindValue(file, 'index', index, (stored) => `this custodian store belongs to custodian ${stored}, not ${index}`);
          bindKeyIds(file, identity.keyIds, 'custodian store');
        },
      },
      durability,
    );
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  helped(groupId: string, slot: number, keyId: string): HelpedRow | undefined {
    return this.helpedOf(groupId, slot).find((r) => r.keyId === keyId);
  }

  /** What this custodian helped decrypt of a (group, slot): one row per key id. */
  helpedOf(groupId: string, slot: number): HelpedRow[] {
    const rows = this.db.prepare('SELECT * FROM helped WHERE group_id = ? AND slot = ? ORDER BY key_id').all(groupId, slot) as {
      group_id: string;
      slot: number;
      key_id: string;
      contributors: string;
      aggregate_hash: string;
      partial: string;
      helped_at: number;
    }[];
    return rows.map((r) => ({
      groupId: r.group_id,
      slot: r.slot,
      keyId: r.key_id,
      contributors: JSON.parse(r.contributors),
      aggregateHash: r.aggregate_hash,
      partial: r.partial,
      helpedAt: r.helped_at,
    }));
  }

  /** Contributor sets of everything this custodian helped decrypt for the slot, in every group, part by part. */
  helpedSetsForSlot(slot: number): ContributorSet[] {
    const rows = this.db.prepare('SELECT group_id, contributors FROM helped WHERE slot = ?').all(slot) as {
      group_id: string;
      contributors: string;
    }[];
    return rows.map((r) => ({ group: r.group_id, contributors: JSON.parse(r.contributors) }));
  }

  insertHelped(row: HelpedRow): void {
    this.db
      .prepare('INSERT INTO helped (group_id, slot, key_id, contributors, aggregate_hash, partial, helped_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(row.groupId, row.slot, row.keyId, JSON.stringify(row.contributors), row.aggregateHash, row.partial, row.helpedAt);
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
