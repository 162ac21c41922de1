/**
 * Ciphertexts for benchmark meters, fast: each r^n is the product of a distinct triple from a pool
 * of precomputed r^n values (index -> triple is injective, so no product repeats within a run).
 * A benchmark shortcut to generate tens of thousands of valid reports in seconds; meters never do this.
 */
import { randomBytes } from 'node:crypto';
import type { PaillierPublicKey } from '../../../firmware/paillier/public-key.ts';

export function benchRandomness(publicKey: PaillierPublicKey, poolSize = 100): () => bigint {
  const random = (n: number) => new Uint8Array(randomBytes(n));
  const pool = Array.from({ length: poolSize }, () => publicKey.precomputeRn(random));
  const triples: [number, number, number][] = [];
  for (let i = 0; i < poolSize; i++) for (let j = i + 1; j < poolSize; j++) for (let k = j + 1; k < poolSize; k++) triples.push([i, j, k]);
  // Shuffled so consecutive reports do not share two factors.
  for (let i = triples.length - 1; i > 0; i--) {
    const j = randomBytes(4).readUInt32BE(0) % (i + 1);
    [triples[i], triples[j]] = [triples[j], triples[i]];
  }
  let next = 0;
  return () => {
    if (next >= triples.length) throw new Error('benchmark randomness exhausted');
    const [i, j, k] = triples[next++];
    return publicKey.arith.mul(publicKey.arith.mul(pool[i], pool[j]), pool[k]);
  };
}
