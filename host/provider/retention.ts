/**
 * What the provider forgets (config `retention`): the once-only records of slots past the horizon
 * (each decrypted part's row, and a reservation the custodians refused for good), whose aggregates
 * the horizon rule refuses by name (host/policy/horizon.ts); refused aggregates and alerts after
 * their own spans. A reservation still waiting is never collected: it is work to be done, and the
 * custodians refuse it by the same horizon once it is too old. The decrypted series and the
 * feeder readings are the product: kept, or with `retention.downsample` folded into coarser slots
 * (host/provider/downsample.ts).
 */
import type { MeterveilConfig } from '../config/schema.ts';
import { firstKeptSlot } from '../policy/horizon.ts';
import { collectByAge, collectBySlot, type CollectionTask } from '../store/collector.ts';
import { downsampleTasks } from './downsample.ts';
import type { StoreFile } from '../store/sqlite.ts';

export function providerCollection(file: StoreFile, config: MeterveilConfig): CollectionTask[] {
  const { retention, slotSeconds } = config;
  const beyond = (now: number) => firstKeptSlot(now, retention.horizonSeconds, slotSeconds);
  const part = 'group_id, slot, key_id';
  return [
    collectBySlot(file, 'series_parts', part, beyond),
    collectBySlot(file, 'reservations', part, beyond, `AND state = 'refused'`),
    collectByAge(file, 'refusals', 'received_at', retention.refusalsSeconds),
    collectByAge(file, 'alerts', 'created_at', retention.alertsSeconds),
    ...downsampleTasks(file, config),
  ];
}
