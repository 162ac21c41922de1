/** The feeder meters as Prometheus metrics (docs/pipeline.md, "Metrics"): readings published, by feeder. */
import { readCounter, roleRegistry, type Registry } from '../metrics/registry.ts';
import type { Feeder } from './feeder.ts';

export function feederMetrics(feeders: readonly Feeder[]): Registry {
  const registry = roleRegistry({ role: 'feeder' });
  readCounter({
    registry,
    name: 'meterveil_feeder_readings_published_total',
    help: 'feeder readings published, by feeder',
    labelNames: ['feeder'],
    read: () => feeders.map((f) => [{ feeder: f.feederId }, f.published] as const),
  });
  return registry;
}
