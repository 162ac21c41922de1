/**
 * A (group, slot) decrypted in parts: during a key rotation the aggregator publishes one
 * aggregate per key id for the same slot (docs/keys.md). Each part is decrypted once with its
 * own key; the series row of the (group, slot) holds their sum and the union of their
 * contributors (ProviderStore.addToSeries). Parts must have disjoint contributors: a meter counted twice would be a wrong
 * total, and two overlapping parts would difference each other.
 * Table `series_parts` lives in the provider's SQLite file beside `series`; host/provider/store.ts
 * creates it with the rest of the file and gives this class its statements.
 */
import type { ContributorSet } from '../policy/disclosure.ts';
import type { Statements } from '../store/sqlite.ts';

export interface SeriesPart {
  groupId: string;
  slot: number;
  keyId: string;
  contributors: string[];
  aggregateHash: string;
}

export const SERIES_PARTS_TABLE = `
CREATE TABLE IF NOT EXISTS series_parts (
  group_id TEXT NOT NULL, slot INTEGER NOT NULL, key_id TEXT NOT NULL, contributors TEXT NOT NULL,
  aggregate_hash TEXT NOT NULL, decrypted_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, slot, key_id)
);
CREATE INDEX IF NOT EXISTS series_parts_by_slot ON series_parts (slot);
`;

export class SeriesParts {
  constructor(private readonly db: Statements) {}

  parts(groupId: string, slot: number): SeriesPart[] {
    const rows = this.db.prepare('SELECT * FROM series_parts WHERE group_id = ? AND slot = ? ORDER BY key_id').all(groupId, slot) as {
      group_id: string;
      slot: number;
      key_id: string;
      contributors: string;
      aggregate_hash: string;
    }[];
    return rows.map((r) => ({
      groupId: r.group_id,
      slot: r.slot,
      keyId: r.key_id,
      contributors: JSON.parse(r.contributors),
      aggregateHash: r.aggregate_hash,
    }));
  }

  /** Contributor sets of every part decrypted for the slot, in every group. */
  setsForSlot(slot: number): ContributorSet[] {
    const rows = this.db.prepare('SELECT group_id, contributors FROM series_parts WHERE slot = ?').all(slot) as {
      group_id: string;
      contributors: string;
    }[];
    return rows.map((r) => ({ group: r.group_id, contributors: JSON.parse(r.contributors) }));
  }

  insert(part: SeriesPart, now: number): void {
    this.db
      .prepare('INSERT INTO series_parts (group_id, slot, key_id, contributors, aggregate_hash, decrypted_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(part.groupId, part.slot, part.keyId, JSON.stringify(part.contributors), part.aggregateHash, now);
  }
}
