/**
 * What a custodian forgets (config `retention`): its record of what it helped decrypt, for slots
 * past the horizon, whose requests it refuses by name (host/policy/horizon.ts) before it looks for
 * the record; and its refusals after retention.refusalsSeconds. The hashes of aggregates it saw
 * are forgotten as new ones arrive (CustodianStore.noteSeen).
 */
import type { MeterveilConfig } from '../config/schema.ts';
import { firstKeptSlot } from '../policy/horizon.ts';
import { collectByAge, collectBySlot, type CollectionTask } from '../store/collector.ts';
import type { StoreFile } from '../store/sqlite.ts';

export function custodianCollection(file: StoreFile, config: MeterveilConfig): CollectionTask[] {
  const { retention, slotSeconds } = config;
  return [
    collectBySlot(file, 'helped', 'group_id, slot, key_id', (now) => firstKeptSlot(now, retention.horizonSeconds, slotSeconds)),
    collectByAge(file, 'refusals', 'received_at', retention.refusalsSeconds),
  ];
}
