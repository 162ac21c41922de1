/**
 * Trusted-dealer key generation for threshold Paillier. The dealer alone sees p, q and d, for
 * the duration of this function; it returns only the public key and the shares.
 *
 * With safe primes p = 2p' + 1, q = 2q' + 1 and m = p'q', the squares of Z*_{n^2} form a cyclic
 * group of order n m. The decryption exponent d satisfies d = 0 mod m and d = 1 mod n, so
 * c^(4 Delta^2 d) = (1 + n)^(4 Delta^2 M) for any ciphertext c of M: combining shares of d in the
 * exponent yields M times a public constant, without d ever being rebuilt.
 */
import { generatePrime, randomBytes } from 'node:crypto';
import { bitLength } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { gcd, modInverse } from '../../firmware/paillier/numbers.ts';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { randomBelow, randomUnit, type RandomBytes } from '../../firmware/paillier/random.ts';
import type { KeyMode } from '../paillier/keygen.ts';
import { modPow } from '../paillier/openssl-pow.ts';
import { shortExponentBase } from '../paillier/short-exponent.ts';
import { checkThresholdParameters, factorial, ThresholdPublicKey, type KeyShare } from './threshold-key.ts';

function generateSafePrime(bits: number): Promise<bigint> {
  return new Promise((resolve, reject) => {
    generatePrime(bits, { safe: true, bigint: true }, (error, prime) => (error ? reject(error) : resolve(prime as bigint)));
  });
}

export const SUPPORTED_THRESHOLD_BITS = [2048, 3072] as const;
/** Only for fast property tests; never offered by the CLI. */
export const TEST_ONLY_THRESHOLD_BITS = [256, 512, 1024] as const;

export type KeygenProgress = (
  event: { step: 'safe-prime'; found: number; of: number; seconds: number } | { step: 'shares'; seconds: number },
) => void;

export interface ThresholdKeygenOptions {
  bits?: number;
  threshold: number;
  custodians: number;
  random?: RandomBytes;
  onProgress?: KeygenProgress;
  /** Short-exponent (default: safe primes are admissible) or classic r^n. */
  mode?: KeyMode;
}

export interface ThresholdKeySet {
  publicKey: ThresholdPublicKey;
  shares: KeyShare[];
}

const nodeRandom: RandomBytes = (length) => new Uint8Array(randomBytes(length));

/** Both safe primes are searched in parallel on libuv's thread pool, so the event loop stays free. */
async function safePrimePair(half: number, started: number, onProgress?: KeygenProgress): Promise<[bigint, bigint]> {
  let found = 0;
  const one = async () => {
    const prime = await generateSafePrime(half);
    onProgress?.({ step: 'safe-prime', found: ++found, of: 2, seconds: (Date.now() - started) / 1000 });
    return prime;
  };
  return Promise.all([one(), one()]);
}

/** True when v has order exactly n m: no maximal proper divisor of n m kills it. */
function generatesSquares(v: bigint, primes: bigint[], nm: bigint, nSquared: bigint): boolean {
  return primes.every((prime) => modPow(v, nm / prime, nSquared) !== 1n);
}

export async function generateThresholdKey(options: ThresholdKeygenOptions): Promise<ThresholdKeySet> {
  const { bits = 2048, threshold, custodians, random = nodeRandom, onProgress, mode = 'short-exponent' } = options;
  checkThresholdParameters(threshold, custodians);
  if (![...SUPPORTED_THRESHOLD_BITS, ...TEST_ONLY_THRESHOLD_BITS].includes(bits as never)) {
    fail('bad-key-size', `key size must be one of ${SUPPORTED_THRESHOLD_BITS.join(', ')} bits`);
  }
  const started = Date.now();
  for (;;) {
    const [p, q] = await safePrimePair(bits / 2, started, onProgress);
    const n = p * q;
    const pPrime = (p - 1n) / 2n;
    const qPrime = (q - 1n) / 2n;
    const m = pPrime * qPrime;
    if (p === q || bitLength(n) !== bits || gcd(n, m) !== 1n) continue;
    const nm = n * m;
    const nSquared = n * n;

    const d = (m * modInverse(m, n)) % nm;
    const coefficients = [d];
    for (let i = 1; i < threshold; i++) coefficients.push(randomBelow(nm, random));
    const shareOf = (index: number) => coefficients.reduceRight((acc, a) => (acc * BigInt(index) + a) % nm, 0n);

    const r = randomUnit(nSquared, random);
    const v = (r * r) % nSquared;
    if (!generatesSquares(v, [p, q, pPrime, qPrime], nm, nSquared)) continue;

    const delta = factorial(custodians);
    const secretShares = Array.from({ length: custodians }, (_, i) => shareOf(i + 1));
    const verificationKeys = secretShares.map((s) => modPow(v, delta * s, nSquared));
    const shortExponent = mode === 'short-exponent' ? shortExponentBase(n, random) : undefined;
    const publicKey = new ThresholdPublicKey(new PaillierPublicKey(n, { shortExponent }), threshold, custodians, v, verificationKeys);
    onProgress?.({ step: 'shares', seconds: (Date.now() - started) / 1000 });
    return { publicKey, shares: secretShares.map((share, i) => ({ publicKey, index: i + 1, share })) };
  }
}
