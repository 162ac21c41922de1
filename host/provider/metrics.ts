/**
 * The provider's Prometheus metrics (docs/pipeline.md, "Metrics"), served on its API as /metrics.
 * Group totals, meter ids and readings are never a label or a value: only counts by group,
 * reason and state, and the meters' health summed over all of them.
 */
import type { MeterveilConfig } from '../config/schema.ts';
import { byLabel, histogram, readCounter, readGauge, roleRegistry, type Registry } from '../metrics/registry.ts';
import { slotStartMs } from '../protocol/slots.ts';
import type { Decrypted, DecryptionOutcome, Provider } from './provider.ts';
import type { ProviderStore } from './store.ts';

/** A meter whose latest status is older than this is stale: twice the firmware's default statusSeconds (300). */
export const METER_STATUS_STALE_SECONDS = 600;

/** Seconds from a slot's end to its total stored: the lateness wait and the decryption dominate. */
const SLOT_BUCKETS = [1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300, 900];
/** One CRT decryption takes milliseconds; a round of custodians up to its timeout. */
const DECRYPTION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface ProviderMetrics {
  registry: Registry;
  /** Hooks for the provider's options. */
  onDecrypted(d: Decrypted): void;
  onDecryption(mode: string, seconds: number, outcome: DecryptionOutcome): void;
  /** Reads the provider's own counts and its store at each scrape. */
  watch(provider: Provider, store: ProviderStore): void;
}

export function providerMetrics(config: MeterveilConfig, now: () => number = Date.now): ProviderMetrics {
  const registry = roleRegistry({ role: 'provider' });
  const stored = histogram(
    registry,
    'meterveil_provider_slot_stored_seconds',
    "seconds from a slot's end to a decrypted total of it stored, by group",
    SLOT_BUCKETS,
    ['group'],
  );
  const decryption = histogram(
    registry,
    'meterveil_provider_decryption_seconds',
    'time of one decryption (single: CRT; threshold: one round of asking the custodians), by mode and outcome',
    DECRYPTION_BUCKETS,
    ['mode', 'outcome'],
  );
  return {
    registry,
    onDecrypted(d) {
      stored.observe({ group: d.groupId }, Math.max(0, (now() - slotStartMs(d.slot + 1, config.slotSeconds)) / 1000));
    },
    onDecryption(mode, seconds, outcome) {
      decryption.observe({ mode, outcome }, seconds);
    },
    watch(provider, store) {
      readCounter({
        registry,
        name: 'meterveil_provider_slots_decrypted_total',
        help: 'group slots decrypted and stored, by group',
        labelNames: ['group'],
        read: () => byLabel('group', store.countSeriesByGroup()),
      });
      readCounter({
        registry,
        name: 'meterveil_provider_refused_total',
        help: 'aggregates, feeder readings and statuses refused or dropped, by reason (republished: a repeat of one already taken)',
        labelNames: ['reason'],
        read: () => byLabel('reason', provider.counts.totals),
      });
      readCounter({
        registry,
        name: 'meterveil_provider_alerts_total',
        help: 'alerts raised, by group and kind (feeder-deviation, out-of-range-total)',
        labelNames: ['group', 'kind'],
        read: () => store.countAlerts().map((a) => [{ group: a.groupId, kind: a.kind }, a.n] as const),
      });
      readGauge({
        registry,
        name: 'meterveil_provider_reservations_waiting',
        help: 'threshold mode: slots reserved and waiting for the custodians',
        read: () => [[{}, store.countWaiting()]],
      });
      readGauge({
        registry,
        name: 'meterveil_provider_meters',
        help: `meters by the state of their health status: online (one in the last ${METER_STATUS_STALE_SECONDS} s), stale (older), never (none yet)`,
        labelNames: ['state'],
        read: () => {
          const statuses = store.meterStatuses();
          const horizon = now() - METER_STATUS_STALE_SECONDS * 1000;
          const online = [...statuses.values()].filter((s) => s.receivedAt >= horizon).length;
          const never = new Set(config.groups.flatMap((g) => g.members)).size - statuses.size;
          return [
            [{ state: 'online' }, online],
            [{ state: 'stale' }, statuses.size - online],
            [{ state: 'never' }, never],
          ];
        },
      });
      readGauge({
        registry,
        name: 'meterveil_provider_meter_health',
        help: "the meters' latest health statuses summed over all meters, by field: outbox (reports waiting), dropped (given up by outboxes), acksRejected, storageFull, sensorMisses",
        labelNames: ['field'],
        read: () => {
          const fields = ['outbox', 'dropped', 'acksRejected', 'storageFull', 'sensorMisses'] as const;
          const statuses = [...store.meterStatuses().values()];
          return fields.map((field) => [{ field }, statuses.reduce((sum, s) => sum + s[field], 0)] as const);
        },
      });
    },
  };
}
