/**
 * Proof nonces a custodian prepares while it waits for requests: each holds v^nonce, one of the
 * two exponentiations of a partial decryption's proof. Kept in memory only, each taken once and
 * dropped, so no nonce ever serves two proofs.
 */
import type { RandomBytes } from '../../firmware/paillier/random.ts';
import type { PrecomputedNonce } from './proof.ts';
import { precomputeProofNonce } from './partial.ts';
import type { ThresholdPublicKey } from './threshold-key.ts';

export class ProofNoncePool {
  private readonly entries: PrecomputedNonce[] = [];

  constructor(
    private readonly key: ThresholdPublicKey,
    readonly capacity: number,
    private readonly random?: RandomBytes,
  ) {}

  get size(): number {
    return this.entries.length;
  }

  /** Prepares one nonce if there is room; returns whether it did. */
  refillOne(): boolean {
    if (this.entries.length >= this.capacity) return false;
    this.entries.push(precomputeProofNonce(this.key, this.random));
    return true;
  }

  take(): PrecomputedNonce | undefined {
    return this.entries.pop();
  }
}
