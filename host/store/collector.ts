/**
 * Garbage collection of a role's SQLite file, in bounded batches. Each task deletes (or folds) at
 * most `batchRows` rows per transaction; between two transactions the collector yields to the
 * event loop (setImmediate), so the role's message handlers and its own batches of ingest run in
 * between and never wait for more than one short batch. After the rows, the pages they freed are
 * handed back a few at a time (incremental vacuum, host/store/sqlite.ts). The same collection runs
 * in the background every `collectSeconds` and by hand (`meterveil gc`).
 */
import type { RoleLog } from '../log/logger.ts';
import type { StoreFile } from './sqlite.ts';

/** One kind of record a role may forget. */
export interface CollectionTask {
  /** The table (or record) it collects, as the counts name it. */
  name: string;
  /** Inside a transaction: removes at most `limit` rows that are past their retention at `now` (ms); returns how many. */
  collect(limit: number, now: number): number;
}

export interface CollectorOptions {
  batchRows: number;
  now?: () => number;
  /** Pages given back per step of the incremental vacuum. */
  vacuumPages?: number;
}

export type Collected = Record<string, number>;

const yieldToIngest = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Collector {
  private running: Promise<Collected> | undefined;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Rows collected since start, by task: shown in a role's status and logs. */
  readonly total: Collected = {};

  constructor(
    private readonly file: StoreFile,
    private readonly tasks: readonly CollectionTask[],
    private readonly o: CollectorOptions,
  ) {
    this.now = o.now ?? Date.now;
    for (const t of tasks) this.total[t.name] = 0;
  }

  /** Collects every `everyMs` in the background (the first run after one period); what it collected and its errors go to `log`. */
  start(everyMs: number, log?: RoleLog): void {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.collect().then(
        (n) => {
          const rows = Object.entries(n).filter(([, v]) => v > 0);
          if (rows.length > 0)
            log?.debug({ collected: Object.fromEntries(rows) }, `collected ${rows.map(([k, v]) => `${v} ${k}`).join(', ')}`);
        },
        (e: Error) => log?.error({ reason: 'internal-error' }, `collection failed: ${e.message}`),
      );
    }, everyMs);
    this.timer.unref();
  }

  /** Stops the background runs and waits for one in progress to end its current batch. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    await this.running?.catch(() => undefined);
  }

  /** One full collection: every task until nothing is past its retention, then the freed pages. A run in progress is joined. */
  collect(): Promise<Collected> {
    this.running ??= this.run().finally(() => (this.running = undefined));
    return this.running;
  }

  private async run(): Promise<Collected> {
    const counts: Collected = {};
    for (const task of this.tasks) {
      counts[task.name] = 0;
      for (;;) {
        if (this.stopped || !this.file.open) return counts;
        const n = this.file.transaction(() => task.collect(this.o.batchRows, this.now()));
        counts[task.name] += n;
        this.total[task.name] += n;
        await yieldToIngest();
        if (n < this.o.batchRows) break;
      }
    }
    const pages = this.o.vacuumPages ?? 64;
    for (let free = this.file.freePages(); free > 0 && !this.stopped && this.file.open;) {
      this.file.releasePages(pages);
      await yieldToIngest();
      if (!this.file.open) break;
      const left = this.file.freePages();
      if (left >= free) break;
      free = left;
    }
    return counts;
  }
}

/** Rows of `table` whose slot is before `firstKept(now)` (and that match `also`), one batch at a time by its primary key `key`. */
export function collectBySlot(file: StoreFile, table: string, key: string, firstKept: (now: number) => number, also = ''): CollectionTask {
  return {
    name: table,
    collect: (limit, now) =>
      file
        .prepare(`DELETE FROM ${table} WHERE (${key}) IN (SELECT ${key} FROM ${table} WHERE slot < ? ${also} ORDER BY slot LIMIT ?)`)
        .run(firstKept(now), limit).changes,
  };
}

/** Rows of `table` (with an integer `id`) whose `column` (Unix ms) is more than `keepSeconds` old. */
export function collectByAge(file: StoreFile, table: string, column: string, keepSeconds: number): CollectionTask {
  return {
    name: table,
    collect: (limit, now) =>
      file
        .prepare(`DELETE FROM ${table} WHERE id IN (SELECT id FROM ${table} WHERE ${column} < ? ORDER BY id LIMIT ?)`)
        .run(now - keepSeconds * 1000, limit).changes,
  };
}

/** A role's background collection, as its config's retention says: every collectSeconds, batchRows at a time. */
export function startCollection(
  file: StoreFile,
  tasks: readonly CollectionTask[],
  retention: { collectSeconds: number; batchRows: number },
  options: { now?: () => number; log?: RoleLog },
): Collector {
  const collector = new Collector(file, tasks, { batchRows: retention.batchRows, now: options.now });
  collector.start(retention.collectSeconds * 1000, options.log);
  return collector;
}
