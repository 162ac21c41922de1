/**
 * A role's Prometheus metrics (prom-client): a registry of its own, every series labelled with the
 * role (and the group or custodian it serves). Label values come from closed sets only (reason
 * codes, group ids, states), never a meter id or a reading: a scrape tells nothing of a household.
 *
 * Most counts already exist in the role (reason counters, its store); they are read at each scrape
 * rather than counted twice. They survive a restart where the role keeps them in its store, which
 * Prometheus takes as a counter that went on.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type { Registry } from 'prom-client';

export function roleRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  return registry;
}

/** The process metrics (CPU, memory, event loop lag, GC), added once the registry is served. */
export function addProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}

type Labelled = readonly [labels: Record<string, string>, value: number];

interface Read {
  registry: Registry;
  name: string;
  help: string;
  labelNames?: readonly string[];
  /** The values at scrape time; a label set not read is not exported. */
  read: () => Iterable<Labelled>;
}

/** A counter whose values the role keeps anyway, read at each scrape. */
export function readCounter({ registry, name, help, labelNames = [], read }: Read): Counter {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.inc(labels, value);
    },
  });
}

/** A gauge read at each scrape. */
export function readGauge({ registry, name, help, labelNames = [], read }: Read): Gauge {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, value] of read()) this.set(labels, value);
    },
  });
}

/** Counts by reason (a ReasonCounter's totals, the broker's refusals) as labelled values. */
export function byLabel(label: string, counts: Iterable<readonly [string, number]>): Labelled[] {
  return [...counts].map(([value, n]) => [{ [label]: value }, n] as const);
}

export function counter(registry: Registry, name: string, help: string, labelNames: readonly string[] = []): Counter {
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export function histogram(
  registry: Registry,
  name: string,
  help: string,
  buckets: number[],
  labelNames: readonly string[] = [],
): Histogram {
  return new Histogram({ name, help, buckets, labelNames, registers: [registry] });
}

/** Seconds since `start` (from performance.now()). */
export const secondsSince = (start: number): number => (performance.now() - start) / 1000;
