/**
 * One group's aggregator as Prometheus metrics (docs/pipeline.md, "Metrics"): reports accepted and
 * refused by reason, slots closed published or suppressed. Every series carries the group id.
 */
import type { MeterveilConfig } from '../config/schema.ts';
import { byLabel, counter, histogram, readCounter, readGauge, roleRegistry, type Registry } from '../metrics/registry.ts';
import { slotStartMs } from '../protocol/slots.ts';
import type { Aggregator, SlotClosed } from './aggregator.ts';

/** Seconds from a slot's end to its close: every member in, or the lateness wait. */
const CLOSE_BUCKETS = [0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300];

export interface AggregatorMetrics {
  registry: Registry;
  onSlotClosed(e: SlotClosed): void;
  watch(aggregator: Aggregator): void;
}

export function aggregatorMetrics(config: MeterveilConfig, groupId: string, now: () => number = Date.now): AggregatorMetrics {
  const registry = roleRegistry({ role: 'aggregator', group: groupId });
  const closed = counter(registry, 'meterveil_aggregator_slots_closed_total', 'slots closed, by state (published, suppressed)', ['state']);
  const closedAfter = histogram(
    registry,
    'meterveil_aggregator_slot_closed_seconds',
    "seconds from a slot's end to its close",
    CLOSE_BUCKETS,
  );
  for (const state of ['published', 'suppressed']) closed.inc({ state }, 0);
  return {
    registry,
    onSlotClosed(e) {
      closed.inc({ state: e.state });
      closedAfter.observe(Math.max(0, (now() - slotStartMs(e.slot + 1, config.slotSeconds)) / 1000));
    },
    watch(aggregator) {
      readCounter({
        registry,
        name: 'meterveil_aggregator_reports_accepted_total',
        help: 'reports accepted into a product since the aggregator started',
        read: () => [[{}, aggregator.accepted]],
      });
      readCounter({
        registry,
        name: 'meterveil_aggregator_reports_refused_total',
        help: 'reports and announcements refused, by reason (kept across restarts in the store)',
        labelNames: ['reason'],
        read: () => byLabel('reason', aggregator.rejections.totals),
      });
      readCounter({
        registry,
        name: 'meterveil_aggregator_slots_suppressed_total',
        help: 'slots closed without publishing, by reason (below-k, members-missing, ...; kept across restarts)',
        labelNames: ['reason'],
        read: () => byLabel('reason', aggregator.suppressions.totals),
      });
      readGauge({
        registry,
        name: 'meterveil_aggregator_open_slots',
        help: 'slots with reports and not yet closed',
        read: () => [[{}, aggregator.status().openSlots.length]],
      });
    },
  };
}
