/**
 * A role's collection as Prometheus metrics (docs/pipeline.md "Metrics"): rows forgotten by table
 * since the role started, and its SQLite file's size, which retention keeps bounded.
 */
import { byLabel, readCounter, readGauge, type Registry } from '../metrics/registry.ts';
import type { Collector } from './collector.ts';
import type { StoreFile } from './sqlite.ts';

export function watchCollection(registry: Registry, collector: Collector, file: StoreFile): void {
  readCounter({
    registry,
    name: 'meterveil_collected_rows_total',
    help: "rows the role's retention let it forget since it started, by table",
    labelNames: ['table'],
    read: () => byLabel('table', Object.entries(collector.total)),
  });
  readGauge({
    registry,
    name: 'meterveil_store_bytes',
    help: "the size of the role's SQLite file (without its write-ahead log)",
    read: () => (file.open ? [[{}, file.sizeBytes()]] : []),
  });
}
