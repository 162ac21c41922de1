/**
 * Key generation from node:crypto's prime generation (OpenSSL), two primes in parallel. Keys are
 * short-exponent keys (version 2, see short-exponent.ts) unless the classic r^n is asked for.
 */
import { generatePrime, randomBytes } from 'node:crypto';
import { bitLength } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { gcd } from '../../firmware/paillier/numbers.ts';
import { PaillierPrivateKey } from './private-key.ts';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { createNativeArith } from './native-arith.ts';
import { shortExponentAdmissible, shortExponentBase } from './short-exponent.ts';

/** 'short-exponent': randomness hs^a (Damgard-Jurik-Nielsen); 'classic': r^n, version-1 key files. */
export type KeyMode = 'short-exponent' | 'classic';
export const KEY_MODES: readonly KeyMode[] = ['short-exponent', 'classic'];

/** Primes = 3 mod 4 for short-exponent keys, any otherwise. */
function generatePrimeAsync(bits: number, mode: KeyMode): Promise<bigint> {
  const congruence = mode === 'short-exponent' ? { add: 4n, rem: 3n } : {};
  return new Promise((resolve, reject) =>
    generatePrime(bits, { bigint: true, ...congruence }, (err, prime) => (err ? reject(err) : resolve(prime))),
  );
}

const nodeRandom = (length: number) => new Uint8Array(randomBytes(length));

export const SUPPORTED_KEY_BITS = [2048, 3072] as const;
/** Only for fast property tests; never offered by the CLI. */
export const TEST_ONLY_KEY_BITS = [128, 256, 512, 1024] as const;

export interface KeyPair {
  publicKey: PaillierPublicKey;
  privateKey: PaillierPrivateKey;
}

export async function generateKeyPair(bits = 2048, mode: KeyMode = 'short-exponent'): Promise<KeyPair> {
  if (![...SUPPORTED_KEY_BITS, ...TEST_ONLY_KEY_BITS].includes(bits as never)) {
    fail('bad-key-size', `key size must be one of ${SUPPORTED_KEY_BITS.join(', ')} bits`);
  }
  const half = bits / 2;
  const draw = () => Promise.all([generatePrimeAsync(half, mode), generatePrimeAsync(half, mode)]);
  let [p, ...candidates]: bigint[] = await draw();
  for (;;) {
    // About half of the short-exponent pairs fail gcd(p-1, q-1) = 2: p stays, and two new q are drawn at once.
    const q = candidates.find((c) => c !== p && (mode === 'classic' || shortExponentAdmissible(p, c)));
    const n = q === undefined ? 0n : p * q;
    // Equal-length primes make gcd(n, (p-1)(q-1)) = 1 almost surely; check rather than assume.
    if (q === undefined || bitLength(n) !== bits || gcd(n, (p - 1n) * (q - 1n)) !== 1n) {
      if (q !== undefined) [p, ...candidates] = await draw();
      else candidates = await draw();
      continue;
    }
    if (mode === 'classic') {
      const privateKey = new PaillierPrivateKey(p, q);
      return { publicKey: privateKey.publicKey, privateKey };
    }
    const publicKey = new PaillierPublicKey(n, { arith: createNativeArith, shortExponent: shortExponentBase(n, nodeRandom) });
    return { publicKey, privateKey: new PaillierPrivateKey(p, q, publicKey) };
  }
}
