/**
 * What an aggregator forgets: the seen rows (one per meter and slot, the duplicate and replay
 * check) and the closed slots (their aggregate message, the `slot-closed` check) of slots past the
 * acceptance horizon. A report of such a slot is refused `slot-too-old` by its time alone, before
 * any row is looked for, so the rows guard nothing any more. Slots still open or not yet confirmed
 * published are never collected, whatever their age: their rows are the product being built and
 * the contributor list being published. A suppressed slot leaves its count by reason behind.
 */
import type { MeterveilConfig } from '../config/schema.ts';
import { firstKeptSlot } from '../policy/horizon.ts';
import { acceptanceHorizonSeconds } from '../protocol/slots.ts';
import { collectBySlot, type CollectionTask } from '../store/collector.ts';
import type { StoreFile } from '../store/sqlite.ts';

/**
 * How long after a slot's end its seen rows are kept: the acceptance horizon (reports of the slot
 * may arrive until then) and skewSeconds (the aggregator's clock may run behind the meters').
 */
export function seenRetentionSeconds(
  config: Pick<MeterveilConfig, 'slotSeconds' | 'latenessSeconds' | 'outageSeconds' | 'skewSeconds'>,
): number {
  return acceptanceHorizonSeconds(config) + config.skewSeconds;
}

/** Slots in these states are never collected. */
const LIVE = `SELECT slot FROM slots WHERE state IN ('open', 'closing')`;

export function aggregatorCollection(file: StoreFile, config: MeterveilConfig): CollectionTask[] {
  const before = (now: number) => firstKeptSlot(now, seenRetentionSeconds(config), config.slotSeconds);
  const closed = `SELECT slot, key_id FROM slots WHERE slot < ? AND state IN ('published', 'suppressed') ORDER BY slot LIMIT ?`;
  return [
    collectBySlot(file, 'seen', 'slot, meter_id', before, `AND slot NOT IN (${LIVE})`),
    {
      name: 'slots',
      collect: (limit, now) => {
        file
          .prepare(
            `INSERT INTO suppressed (reason, count)
               SELECT reason, count(*) FROM slots WHERE (slot, key_id) IN (${closed}) AND state = 'suppressed' GROUP BY reason
             ON CONFLICT (reason) DO UPDATE SET count = count + excluded.count`,
          )
          .run(before(now), limit);
        return file.prepare(`DELETE FROM slots WHERE (slot, key_id) IN (${closed})`).run(before(now), limit).changes;
      },
    },
  ];
}
