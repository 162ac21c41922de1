/**
 * Combination of partial decryptions. With S the first `threshold` valid custodians and the
 * integer Lagrange coefficients lambda_j = Delta * prod_{j' in S, j' != j} j' / (j' - j),
 * prod c_j^(2 lambda_j) = c^(4 Delta^2 d) = 1 + 4 Delta^2 M n mod n^2, so
 * M = L(that) * (4 Delta^2)^-1 mod n. The shares are combined in the exponent only.
 */
import { fail, MeterveilError } from '../../firmware/errors.ts';
import { checkCiphertext } from '../../firmware/paillier/codec.ts';
import { modInverse } from '../../firmware/paillier/numbers.ts';
import { modPow } from '../paillier/openssl-pow.ts';
import { verifyPartial, type PartialDecryption } from './partial.ts';
import type { ThresholdPublicKey } from './threshold-key.ts';

export interface RejectedPartial {
  index: number;
  reason: string;
  message: string;
}

export interface Combination {
  plaintext: bigint;
  /** Custodian indices whose partials were combined. */
  used: number[];
  /** Partials that failed verification; the plaintext does not depend on them. */
  rejected: RejectedPartial[];
}

/** Delta times the Lagrange basis polynomial of `index` over `indices`, evaluated at 0: an exact integer. */
export function lagrangeAtZero(delta: bigint, index: number, indices: number[]): bigint {
  let numerator = delta;
  let denominator = 1n;
  for (const other of indices) {
    if (other === index) continue;
    numerator *= BigInt(other);
    denominator *= BigInt(other - index);
  }
  return numerator / denominator;
}

/** Verifies every partial, then combines the first `threshold` valid ones by custodian index. */
export function combinePartials(key: ThresholdPublicKey, c: bigint, partials: PartialDecryption[]): Combination {
  checkCiphertext(key.paillier, c);
  const rejected: RejectedPartial[] = [];
  const valid = new Map<number, PartialDecryption>();
  for (const partial of partials) {
    try {
      if (valid.has(partial.index)) fail('duplicate-partial', `custodian ${partial.index} sent more than one partial decryption`);
      verifyPartial(key, c, partial);
      valid.set(partial.index, partial);
    } catch (error) {
      if (!(error instanceof MeterveilError)) throw error;
      rejected.push({ index: partial.index, reason: error.reason, message: error.message });
    }
  }
  if (valid.size < key.threshold) {
    const why = rejected.map((r) => `custodian ${r.index}: ${r.reason}`).join('; ');
    fail('not-enough-partials', `need ${key.threshold} valid partial decryptions, have ${valid.size}${why ? ` (rejected ${why})` : ''}`);
  }
  const used = [...valid.keys()].sort((a, b) => a - b).slice(0, key.threshold);
  return {
    plaintext: combineVerified(
      key,
      used.map((index) => valid.get(index)!),
    ),
    used,
    rejected,
  };
}

/** The combination step alone, for exactly `threshold` partials whose proofs were already checked. */
export function combineVerified(key: ThresholdPublicKey, partials: PartialDecryption[]): bigint {
  if (partials.length !== key.threshold)
    fail('not-enough-partials', `need exactly ${key.threshold} verified partial decryptions, have ${partials.length}`);
  const indices = partials.map((p) => p.index);
  const modulus = key.paillier.nSquared;
  let numerator = 1n;
  let denominator = 1n;
  for (const partial of partials) {
    const lambda = 2n * lagrangeAtZero(key.delta, partial.index, indices);
    if (lambda >= 0n) numerator = (numerator * modPow(partial.value, lambda, modulus)) % modulus;
    else denominator = (denominator * modPow(partial.value, -lambda, modulus)) % modulus;
  }
  const combined = (numerator * modInverse(denominator, modulus)) % modulus;
  const n = key.paillier.n;
  if ((combined - 1n) % n !== 0n) fail('combination-failed', 'combined value is not of the form 1 + kn');
  const fourDeltaSquared = (4n * key.delta * key.delta) % n;
  return (((combined - 1n) / n) * modInverse(fourDeltaSquared, n)) % n;
}
