/**
 * Feeder comparisons held back until a slot's total is complete. During a key rotation a
 * (group, slot) may come in parts, one per key id, decrypted one after the other (in threshold
 * mode possibly much later): comparing the first part alone with the feeder would raise a false
 * alert, and an alert once raised stays. So while the provider's ring holds several keys, a
 * (group, slot) whose decrypted contributors are not yet all its members is compared only once
 * no part of it is waiting at the custodians and its parts are due: the aggregator closes a slot
 * (all of its key ids at once) `latenessSeconds` after its end by a clock up to `skewSeconds`
 * off, and a further slot is allowed for delivery and decryption. An aggregator that was away
 * closes the slot later (up to the outage bound, config outageSeconds): its parts then come
 * together whenever it is back, and the same delivery time is allowed from the first part's
 * arrival. A held comparison is a row in
 * `held_comparisons` (the provider's SQLite file), so a restart does not lose it.
 */
import type { MeterveilConfig } from '../config/schema.ts';
import { slotEndMs } from '../protocol/slots.ts';
import type { Statements } from '../store/sqlite.ts';

/** Part of the provider's file; created with the rest of it by host/provider/store.ts. */
export const HELD_COMPARISONS_TABLE = `
CREATE TABLE IF NOT EXISTS held_comparisons (
  group_id TEXT NOT NULL, slot INTEGER NOT NULL, due_at INTEGER NOT NULL, PRIMARY KEY (group_id, slot)
);
CREATE INDEX IF NOT EXISTS held_comparisons_by_due ON held_comparisons (due_at);
`;

/** When every part of a slot has had time to reach the provider and be decrypted, its first part having come at firstPartAt. */
export function partsDueMs(
  slot: number,
  config: Pick<MeterveilConfig, 'slotSeconds' | 'latenessSeconds' | 'skewSeconds'>,
  firstPartAt: number,
): number {
  const deliveryMs = (config.skewSeconds + config.slotSeconds) * 1000;
  return Math.max(slotEndMs(slot, config.slotSeconds) + config.latenessSeconds * 1000 + deliveryMs, firstPartAt + deliveryMs);
}

export class HeldComparisons {
  constructor(private readonly db: Statements) {}

  hold(groupId: string, slot: number, dueAt: number): void {
    this.db.prepare('INSERT OR IGNORE INTO held_comparisons (group_id, slot, due_at) VALUES (?, ?, ?)').run(groupId, slot, dueAt);
  }

  /** The due time a held (group, slot) was given when it was first held. */
  dueAt(groupId: string, slot: number): number | undefined {
    return this.db.prepare('SELECT due_at FROM held_comparisons WHERE group_id = ? AND slot = ?').pluck().get(groupId, slot) as
      number | undefined;
  }

  release(groupId: string, slot: number): void {
    this.db.prepare('DELETE FROM held_comparisons WHERE group_id = ? AND slot = ?').run(groupId, slot);
  }

  due(now: number): { groupId: string; slot: number }[] {
    const rows = this.db.prepare('SELECT group_id, slot FROM held_comparisons WHERE due_at <= ? ORDER BY slot, group_id').all(now) as {
      group_id: string;
      slot: number;
    }[];
    return rows.map((r) => ({ groupId: r.group_id, slot: r.slot }));
  }
}
