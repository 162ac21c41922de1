/**
 * The load generator's randomness: one precomputed r^n (or hs^a) per report, each handed out once
 * and forgotten. Computing them is what a meter does in idle time and what dominates the
 * generator's cost (about 3 ms each at 2048 bits with OpenSSL), so the whole run's supply is
 * computed before the first slot, in worker threads, for the run's key: nothing is read from or
 * written to a file, so no value can outlive its run or serve two. An empty pool is an error, never
 * a reason to reuse one.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fail } from '../../firmware/errors.ts';
import { readPublicKeyFile } from '../paillier/key-files.ts';

// From the repository root, so that the path is the same from the CLI bundle (build/cli/) as from here.
const WORKER = new URL('../../host/load/pool-worker.ts', import.meta.url);
const BOOT = `const { workerData } = require('node:worker_threads');
import('tsx/esm/api').then((tsx) => { tsx.register(); return import(workerData.module); });`;
const BATCH = 64;

export class OneTimePool {
  private readonly entries: bigint[] = [];
  private handedOut = 0;

  private constructor(readonly capacity: number) {}

  /** Entries computed for this pool, and the number still in it. */
  get made(): number {
    return this.handedOut + this.entries.length;
  }

  get size(): number {
    return this.entries.length;
  }

  get taken(): number {
    return this.handedOut;
  }

  /** Fills a pool of `count` values computed by `workers` threads from the public key file. */
  static async fill(
    publicKeyPath: string,
    count: number,
    options: { workers?: number; onProgress?: (made: number) => void } = {},
  ): Promise<OneTimePool> {
    if (!Number.isInteger(count) || count < 1) fail('bad-pool-capacity', 'pool capacity must be a positive integer');
    const pool = new OneTimePool(count);
    const width = readPublicKeyFile(publicKeyPath).ciphertextBytes;
    const workers = Math.max(1, Math.min(options.workers ?? availableParallelism(), count));
    const shares = Array.from({ length: workers }, (_, i) => Math.floor(count / workers) + (i < count % workers ? 1 : 0));
    await Promise.all(
      shares.map(
        (share) =>
          new Promise<void>((resolve, reject) => {
            // The CLI runs from a bundle; the worker is its own TypeScript module, loaded through tsx.
            const worker = new Worker(BOOT, { eval: true, workerData: { publicKeyPath, count: share, batch: BATCH, module: WORKER.href } });
            worker.on('message', (bytes: Uint8Array) => {
              pool.accept(bytes, width);
              options.onProgress?.(pool.made);
            });
            worker.once('error', reject);
            worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`randomness worker exited with ${code}`))));
          }),
      ),
    );
    if (pool.made !== count) fail('pool-empty', `randomness workers made ${pool.made} of ${count} values`);
    return pool;
  }

  /** Tests: a pool of the given values (as a worker would have made them). */
  static of(values: bigint[]): OneTimePool {
    const pool = new OneTimePool(values.length);
    pool.entries.push(...values);
    return pool;
  }

  private accept(bytes: Uint8Array, width: number): void {
    for (let at = 0; at < bytes.length; at += width)
      this.entries.push(BigInt('0x' + Buffer.from(bytes.subarray(at, at + width)).toString('hex')));
  }

  /** Removes and returns one value; the pool keeps no reference to it. */
  take(): bigint {
    const value = this.entries.pop();
    if (value === undefined) fail('pool-empty', 'the load generator ran out of precomputed randomness (a value is never used twice)');
    this.handedOut++;
    return value;
  }
}
