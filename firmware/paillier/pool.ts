/**
 * Precomputed r^n values, each handed out once. Refilling happens in idle time; taking is
 * what encryption does online. An empty pool is an error: reusing r would let anyone who sees
 * two ciphertexts learn the difference of their plaintexts.
 */
import { fail } from '../errors.ts';
import type { PaillierPublicKey } from './public-key.ts';
import type { RandomBytes } from './random.ts';

export class RandomnessPool {
  private entries: bigint[] = [];

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
  }
}
