/** Key generation from node:crypto's prime generation (OpenSSL), two primes in parallel. */
import { generatePrime } from 'node:crypto';
import { bitLength } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { gcd } from '../../firmware/paillier/numbers.ts';
import { PaillierPrivateKey } from './private-key.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';

function generatePrimeAsync(bits: number): Promise<bigint> {
  return new Promise((resolve, reject) => generatePrime(bits, { bigint: true }, (err, prime) => (err ? reject(err) : resolve(prime))));
}

export const SUPPORTED_KEY_BITS = [2048, 3072] as const;
/** Only for fast property tests; never offered by the CLI. */
export const TEST_ONLY_KEY_BITS = [128, 256, 512, 1024] as const;

export interface KeyPair {
  publicKey: PaillierPublicKey;
  privateKey: PaillierPrivateKey;
}

export async function generateKeyPair(bits = 2048): Promise<KeyPair> {
  if (![...SUPPORTED_KEY_BITS, ...TEST_ONLY_KEY_BITS].includes(bits as never)) {
    fail('bad-key-size', `key size must be one of ${SUPPORTED_KEY_BITS.join(', ')} bits`);
  }
  const half = bits / 2;
  for (;;) {
    const [p, q] = await Promise.all([generatePrimeAsync(half), generatePrimeAsync(half)]);
    const n = p * q;
    // Equal-length primes make gcd(n, (p-1)(q-1)) = 1 almost surely; check rather than assume.
    if (p === q || bitLength(n) !== bits || gcd(n, (p - 1n) * (q - 1n)) !== 1n) continue;
    const privateKey = new PaillierPrivateKey(p, q);
    return { publicKey: privateKey.publicKey, privateKey };
  }
}
