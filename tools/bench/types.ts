/**
 * The benchmark's data model. A suite (tools/bench/suites/*.ts, exporting `suite`) measures
 * rows; the runner prints them, checks the suites' targets and writes JSON.
 */
export type Impl = 'meterveil' | 'paillier-bigint' | 'jsbn';
export type Engine = 'v8' | 'xs';

export interface RowSelector {
  impl: Impl;
  engine: Engine;
  op: string;
  /** Distinguishes measurements of one implementation done another way (see docs/benchmarks.md). */
  variant?: string;
}

export interface BenchRow extends RowSelector {
  bits: number;
  /** Median milliseconds per operation. */
  ms: number;
  /** XS only: computrons per operation (deterministic). */
  computrons?: number;
  /** Number of timed samples the median is taken over, and operations per sample. */
  samples: number;
  batch: number;
  /** Heap rows (ms 0): live XS slots after a full collection, and chunk bytes where the engine reports them. */
  slots?: number;
  bytes?: number;
  /** The row this one's ratio is printed against (same op and bits unless op is given). */
  peer?: Omit<RowSelector, 'op'> & { op?: string };
}

export interface BenchTarget {
  name: string;
  bits: number;
  numerator: RowSelector;
  denominator: RowSelector;
  /** The target holds when numerator.ms / denominator.ms (or their computrons) <= maxRatio. */
  maxRatio: number;
  /** What the ratio compares: time (the default) or XS computrons. */
  metric?: 'ms' | 'computrons';
}

export interface BenchContext {
  bits: number[];
  quick: boolean;
  log: (line: string) => void;
  /** The scale suite: fleet sizes, seconds of reporting and brokers to run instead of its defaults. */
  meters?: number[];
  durationSeconds?: number;
  brokers?: string[];
}

export interface SuiteResult {
  rows: BenchRow[];
  /** What was not measured and why, printed under the table. */
  notes: string[];
}

export interface BenchSuite {
  name: string;
  run(context: BenchContext): Promise<SuiteResult>;
  targets?: BenchTarget[];
}
