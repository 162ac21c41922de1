/**
 * An aggregator process as Prometheus metrics (docs/pipeline.md, "Metrics"): per group it runs,
 * reports accepted and refused by reason, slots closed published or suppressed. Every series
 * carries the group id; the process's own (CPU, memory) carry the group, or the aggregator host's
 * name where one process runs several groups.
 */
import type { MeterveilConfig } from '../config/schema.ts';
import { byLabel, counter, histogram, readCounter, readGauge, roleRegistry, type Registry } from '../metrics/registry.ts';
import { slotStartMs } from '../protocol/slots.ts';
import type { Aggregator, SlotClosed } from './aggregator.ts';

type Labelled = readonly [labels: Record<string, string>, value: number];

/** Seconds from a slot's end to its close: every member in, or the lateness wait. */
const CLOSE_BUCKETS = [0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60, 120, 300];

export interface AggregatorMetrics {
  registry: Registry;
  onSlotClosed(e: SlotClosed): void;
  watch(aggregators: readonly Aggregator[]): void;
}

/** `process`: the process's labels, { group } for one group's, { host } for an aggregator host's. */
export function aggregatorMetrics(
  config: MeterveilConfig,
  process: { group: string } | { host: string },
  now: () => number = Date.now,
): AggregatorMetrics {
  const registry = roleRegistry({ role: 'aggregator', ...process });
  const closed = counter(registry, 'meterveil_aggregator_slots_closed_total', 'slots closed, by state (published, suppressed)', [
    'group',
    'state',
  ]);
  const closedAfter = histogram(
    registry,
    'meterveil_aggregator_slot_closed_seconds',
    "seconds from a slot's end to its close",
    CLOSE_BUCKETS,
    ['group'],
  );
  const perGroup = (aggregators: readonly Aggregator[], read: (a: Aggregator) => Iterable<Labelled>) => () =>
    aggregators.flatMap((a) => [...read(a)].map(([labels, value]): Labelled => [{ group: a.groupId, ...labels }, value]));
  return {
    registry,
    onSlotClosed(e) {
      closed.inc({ group: e.groupId, state: e.state });
      closedAfter.observe({ group: e.groupId }, Math.max(0, (now() - slotStartMs(e.slot + 1, config.slotSeconds)) / 1000));
    },
    watch(aggregators) {
      for (const a of aggregators) for (const state of ['published', 'suppressed']) closed.inc({ group: a.groupId, state }, 0);
      readCounter({
        registry,
        name: 'meterveil_aggregator_reports_accepted_total',
        help: 'reports accepted into a product since the aggregator started',
        labelNames: ['group'],
        read: perGroup(aggregators, (a) => [[{}, a.accepted]]),
      });
      readCounter({
        registry,
        name: 'meterveil_aggregator_reports_refused_total',
        help: 'reports and announcements refused, by reason (kept across restarts in the store)',
        labelNames: ['group', 'reason'],
        read: perGroup(aggregators, (a) => byLabel('reason', a.rejections.totals)),
      });
      readCounter({
        registry,
        name: 'meterveil_aggregator_slots_suppressed_total',
        help: 'slots closed without publishing, by reason (below-k, members-missing, ...; kept across restarts)',
        labelNames: ['group', 'reason'],
        read: perGroup(aggregators, (a) => byLabel('reason', a.suppressions.totals)),
      });
      readGauge({
        registry,
        name: 'meterveil_aggregator_open_slots',
        help: 'slots with reports and not yet closed',
        labelNames: ['group'],
        read: perGroup(aggregators, (a) => [[{}, a.status().openSlots.length]]),
      });
    },
  };
}
