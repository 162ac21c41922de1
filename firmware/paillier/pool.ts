/**
 * Precomputed r^n values, each handed out once. Refilling happens in idle time; taking is
 * what encryption does online. An empty pool is an error: reusing r would let anyone who sees
 * two ciphertexts learn the difference of their plaintexts.
 *
 * refillStep computes the next entry a bounded number of products at a time (steps.ts), with the
 * key's comb table when one is ready (comb.ts); the entry under way is the pool's own state, and
 * its randomness is drawn when it starts, used once, and dropped if the table goes away midway.
 */
import { fail, MeterveilError } from '../errors.ts';
import { residuesFor } from './arith.ts';
import type { CombTable } from './comb.ts';
import type { PaillierPublicKey } from './public-key.ts';
import { randomBits, randomUnit, type RandomBytes } from './random.ts';
import { WindowPowJob, type PowJob } from './steps.ts';

export class RandomnessPool {
  private entries: bigint[] = [];
  private job: { table: boolean; pow: PowJob } | undefined;

  constructor(
    private readonly publicKey: PaillierPublicKey,
    private readonly random: RandomBytes,
    readonly capacity: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) fail('bad-pool-capacity', 'pool capacity must be a positive integer');
  }

  get size(): number {
    return this.entries.length;
  }

  get keyId(): string {
    return this.publicKey.keyId;
  }

  /** Adds one entry; false when the pool is already full. */
  refillOne(): boolean {
    if (this.entries.length >= this.capacity) return false;
    this.entries.push(this.publicKey.precomputeRn(this.random));
    return true;
  }

  /** Runs at most `budget` products towards the next entry; returns how many ran. */
  refillStep(budget: number, table?: CombTable): number {
    if (this.entries.length >= this.capacity || budget <= 0) return 0;
    const key = this.publicKey;
    const useTable = !!table && table.readyFor(key);
    if (!this.job || (this.job.table && !useTable)) this.job = { table: useTable, pow: this.startJob(useTable ? table : undefined) };
    let used: number;
    try {
      used = this.job.pow.step(budget);
    } catch (error) {
      if (!(error instanceof MeterveilError) || error.reason !== 'comb-not-ready') throw error;
      this.job = undefined;
      return 0;
    }
    if (this.job.pow.done) {
      this.entries.push(this.job.pow.result());
      this.job = undefined;
    }
    return used;
  }

  private startJob(table: CombTable | undefined): PowJob {
    const key = this.publicKey;
    const se = key.shortExponent;
    if (!se) return new WindowPowJob(residuesFor(key.n, key.arith), randomUnit(key.n, this.random), key.n);
    const a = randomBits(se.exponentBits, this.random);
    return table ? table.pow(key, a) : new WindowPowJob(residuesFor(key.n, key.arith), se.hs, a);
  }

  /** Adds up to `max` entries, stopping when full; returns how many were added. */
  refill(max = Infinity): number {
    let added = 0;
    while (added < max && this.refillOne()) added++;
    return added;
  }

  /** Removes and returns one entry; the pool keeps no reference to it afterwards. */
  take(): bigint {
    const rn = this.entries.pop();
    if (rn === undefined) fail('pool-empty', 'no precomputed randomness left; refill before encrypting (r is never reused)');
    return rn;
  }

  /** Drops every entry, e.g. when the public key changes. */
  clear(): void {
    this.entries = [];
    this.job = undefined;
  }
}
