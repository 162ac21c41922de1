/**
 * Optional downsampling of the provider's product (config `retention.downsample`): decrypted slots
 * and feeder readings older than `afterSeconds` are folded, `slots` fine slots at a time, into one
 * coarse row per group (table `series_coarse`, keyed by the coarse slot's first fine slot): how
 * many fine slots were decrypted and their summed total, how many the feeder read and its summed
 * reading. Folding sums totals the provider already holds, so it discloses nothing new. A fine
 * row may go only once its slot is past the horizon (afterSeconds >= horizonSeconds, checked by
 * the config): until then it is also the slot's once-only record. Rows fold in batches like any
 * collection; a coarse slot that spans two batches is added to, never replaced.
 */
import type { MeterveilConfig } from '../config/schema.ts';
import { firstKeptSlot } from '../policy/horizon.ts';
import type { CollectionTask } from '../store/collector.ts';
import type { StoreFile } from '../store/sqlite.ts';

export const SERIES_COARSE_TABLE = `
CREATE TABLE IF NOT EXISTS series_coarse (
  group_id TEXT NOT NULL, slot INTEGER NOT NULL, slots INTEGER NOT NULL,
  decrypted INTEGER NOT NULL, total TEXT NOT NULL, feeder_slots INTEGER NOT NULL, feeder TEXT NOT NULL,
  PRIMARY KEY (group_id, slot)
);`;

export interface CoarseRow {
  groupId: string;
  /** The first fine slot it covers. */
  slot: number;
  /** Fine slots it covers. */
  slots: number;
  /** Fine slots of it that were decrypted, and their summed total (mWh). */
  decrypted: number;
  total: bigint;
  /** Fine slots of it the feeder read, and their summed reading (mWh). */
  feederSlots: number;
  feeder: bigint;
}

/** Where a fine table's rows go: its count and sum columns in series_coarse. */
const TARGETS = {
  series: { count: 'decrypted', sum: 'total' },
  feeder: { count: 'feeder_slots', sum: 'feeder' },
} as const;

function fold(file: StoreFile, table: keyof typeof TARGETS, slots: number, before: (now: number) => number): CollectionTask {
  const { count, sum } = TARGETS[table];
  return {
    name: table,
    collect(limit, now) {
      const rows = file
        .prepare(`SELECT group_id, slot, total FROM ${table} WHERE slot < ? ORDER BY slot LIMIT ?`)
        .all(before(now), limit) as { group_id: string; slot: number; total: string }[];
      const buckets = new Map<string, { groupId: string; slot: number; n: number; sum: bigint }>();
      for (const r of rows) {
        const slot = r.slot - (r.slot % slots);
        const key = `${r.group_id}/${slot}`;
        const b = buckets.get(key) ?? { groupId: r.group_id, slot, n: 0, sum: 0n };
        b.n++;
        b.sum += BigInt(r.total);
        buckets.set(key, b);
      }
      for (const b of buckets.values()) {
        file
          .prepare(
            `INSERT INTO series_coarse (group_id, slot, slots, decrypted, total, feeder_slots, feeder) VALUES (?, ?, ?, 0, '0', 0, '0')
             ON CONFLICT (group_id, slot) DO NOTHING`,
          )
          .run(b.groupId, b.slot, slots);
        const held = file
          .prepare(`SELECT ${sum} FROM series_coarse WHERE group_id = ? AND slot = ?`)
          .pluck()
          .get(b.groupId, b.slot) as string;
        file
          .prepare(`UPDATE series_coarse SET ${count} = ${count} + ?, ${sum} = ? WHERE group_id = ? AND slot = ?`)
          .run(b.n, (BigInt(held) + b.sum).toString(), b.groupId, b.slot);
      }
      const remove = file.prepare(`DELETE FROM ${table} WHERE group_id = ? AND slot = ?`);
      for (const r of rows) remove.run(r.group_id, r.slot);
      return rows.length;
    },
  };
}

/** The folding tasks, none without `retention.downsample`. */
export function downsampleTasks(file: StoreFile, config: MeterveilConfig): CollectionTask[] {
  const d = config.retention.downsample;
  if (!d) return [];
  const before = (now: number) => firstKeptSlot(now, d.afterSeconds, config.slotSeconds);
  return [fold(file, 'series', d.slots, before), fold(file, 'feeder', d.slots, before)];
}

/** The coarse rows of a group whose first slot lies in [fromSlot, toSlot). */
export function coarseRange(file: StoreFile, groupId: string, fromSlot: number, toSlot: number): CoarseRow[] {
  const rows = file
    .prepare('SELECT * FROM series_coarse WHERE group_id = ? AND slot >= ? AND slot < ? ORDER BY slot')
    .all(groupId, fromSlot, toSlot) as {
    group_id: string;
    slot: number;
    slots: number;
    decrypted: number;
    total: string;
    feeder_slots: number;
    feeder: string;
  }[];
  return rows.map((r) => ({
    groupId: r.group_id,
    slot: r.slot,
    slots: r.slots,
    decrypted: r.decrypted,
    total: BigInt(r.total),
    feederSlots: r.feeder_slots,
    feeder: BigInt(r.feeder),
  }));
}
