/**
 * A (group, slot) decrypted in parts: during a key rotation the aggregator publishes one
 * aggregate per key id for the same slot (docs/keys.md). Each part is decrypted once with its
 * own key; the series row of the (group, slot) holds their sum and the union of their
 * contributors. Parts must have disjoint contributors: a meter counted twice would be a wrong
 * total, and two overlapping parts would difference each other.
 * Table `series_parts` lives in the provider's SQLite file beside `series` (host/provider/store.ts).
 */
import type { Db } from '../store/sqlite.ts';
import type { SeriesRow } from './store.ts';

export interface SeriesPart {
  groupId: string;
  slot: number;
  keyId: string;
  contributors: string[];
  aggregateHash: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS series_parts (
  group_id TEXT NOT NULL, slot INTEGER NOT NULL, key_id TEXT NOT NULL, contributors TEXT NOT NULL,
  aggregate_hash TEXT NOT NULL, decrypted_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, slot, key_id)
);
CREATE INDEX IF NOT EXISTS series_parts_by_slot ON series_parts (slot);
`;

export class SeriesParts {
  constructor(private readonly db: Db) {
    db.exec(SCHEMA);
  }

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
  setsForSlot(slot: number): string[][] {
    return (this.db.prepare('SELECT contributors FROM series_parts WHERE slot = ?').pluck().all(slot) as string[]).map((s) =>
      JSON.parse(s),
    );
  }

  insert(part: SeriesPart, now: number): void {
    this.db
      .prepare('INSERT INTO series_parts (group_id, slot, key_id, contributors, aggregate_hash, decrypted_at) VALUES (?, ?, ?, ?, ?, ?)')
      .run(part.groupId, part.slot, part.keyId, JSON.stringify(part.contributors), part.aggregateHash, now);
  }

  /** Adds a further part's readings to the (group, slot)'s series row; returns the new row. */
  addToSeries(row: SeriesRow, contributors: readonly string[], readings: readonly bigint[]): SeriesRow {
    const merged: SeriesRow = {
      ...row,
      contributors: [...row.contributors, ...contributors].sort(),
      readings: row.readings.map((r, i) => r + readings[i]),
      total: row.total + readings.reduce((a, b) => a + b, 0n),
    };
    this.db
      .prepare('UPDATE series SET contributors = ?, count = ?, total = ?, readings = ? WHERE group_id = ? AND slot = ?')
      .run(
        JSON.stringify(merged.contributors),
        merged.contributors.length,
        merged.total.toString(),
        JSON.stringify(merged.readings.map(String)),
        row.groupId,
        row.slot,
      );
    return merged;
  }
}
