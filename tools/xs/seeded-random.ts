/**
 * A deterministic byte stream (SHA-256 of seed and counter) so that the same pool or encryption
 * can be replayed in Node and in XS and compared. For tests and benchmarks only: a known seed is
 * no randomness at all. Real randomness comes from the host (node:crypto) or the meter's platform.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '../../firmware/bytes.ts';
import type { RandomBytes } from '../../firmware/paillier/random.ts';

export function seededRandomForTests(seed: string): RandomBytes {
  const seedBytes = new TextEncoder().encode(seed);
  let counter = 0;
  let buffered: Uint8Array = new Uint8Array(0);
  return (length: number) => {
    while (buffered.length < length) {
      const block = new Uint8Array(4);
      new DataView(block.buffer).setUint32(0, counter++);
      buffered = concatBytes(buffered, sha256(concatBytes(seedBytes, block)));
    }
    const out = buffered.slice(0, length);
    buffered = buffered.slice(length);
    return out;
  };
}
