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

const labelsOf = new WeakMap<Registry, Record<string, string>>();

export function roleRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  labelsOf.set(registry, labels);
  return registry;
}

let processMetrics: Registry | undefined;

/**
 * What a listener serves, in Prometheus' text format: the role's metrics and Node's process
 * metrics (CPU, memory, event loop lag, GC). Those are collected once per process, whose timers
 * and observers a registry of their own each would multiply; they carry the labels of the first
 * role served, a process's only one but where tests run several in one.
 */
export async function servedMetrics(registry: Registry): Promise<string> {
  if (!processMetrics) {
    processMetrics = new Registry();
    processMetrics.setDefaultLabels(labelsOf.get(registry) ?? {});
    collectDefaultMetrics({ register: processMetrics });
  }
  const [own, node] = await Promise.all([registry.metrics(), processMetrics.metrics()]);
  return `${own}\n${node}`;
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
export function readCounter(options: Read): Counter {
  return new Counter(readAtScrape(options, (counter: Counter, labels, value) => counter.inc(labels, value)));
}

/** A gauge read at each scrape. */
export function readGauge(options: Read): Gauge {
  return new Gauge(readAtScrape(options, (gauge: Gauge, labels, value) => gauge.set(labels, value)));
}

/** The configuration of a metric that forgets its values and takes them from `read` at each scrape. */
function readAtScrape<M extends Counter | Gauge>(
  { registry, name, help, labelNames = [], read }: Read,
  put: (metric: M, labels: Record<string, string>, value: number) => void,
) {
  return {
    name,
    help,
    labelNames,
    registers: [registry],
    collect(this: M) {
      this.reset();
      for (const [labels, value] of read()) put(this, labels, value);
    },
  };
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
