/**
 * A role's collection as Prometheus metrics (docs/pipeline.md "Metrics"): rows forgotten by table
 * since the role started, and its SQLite file's size, which retention keeps bounded.
 */
import { byLabel, readCounter, readGauge, type Registry } from '../metrics/registry.ts';
import type { Collector } from './collector.ts';
import type { StoreFile } from './sqlite.ts';

export interface WatchedCollection {
  collector: Collector;
  file: StoreFile;
  /** Which of the process's files it is (an aggregator host's group); none for a role's only file. */
  labels?: Record<string, string>;
}

export function watchCollection(registry: Registry, collector: Collector, file: StoreFile): void {
  watchCollections(registry, [{ collector, file }]);
}

export function watchCollections(registry: Registry, collections: readonly WatchedCollection[]): void {
  const labelNames = [...new Set(collections.flatMap((c) => Object.keys(c.labels ?? {})))];
  readCounter({
    registry,
    name: 'meterveil_collected_rows_total',
    help: "rows the role's retention let it forget since it started, by table",
    labelNames: [...labelNames, 'table'],
    read: () =>
      collections.flatMap((c) => byLabel('table', Object.entries(c.collector.total)).map(([l, n]) => [{ ...c.labels, ...l }, n] as const)),
  });
  readGauge({
    registry,
    name: 'meterveil_store_bytes',
    help: "the size of the role's SQLite file (without its write-ahead log)",
    labelNames,
    read: () => collections.flatMap((c) => (c.file.open ? [[{ ...c.labels }, c.file.sizeBytes()] as const] : [])),
  });
}
