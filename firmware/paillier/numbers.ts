/** Number theory on BigInt that the Paillier code needs on both the meter and the host. */
import { fail } from '../errors.ts';

export function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) {
    const t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/** Inverse of a modulo m; refuses when none exists rather than returning garbage. */
export function modInverse(a: bigint, m: bigint): bigint {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  if (oldR !== 1n) fail('not-invertible', 'value has no inverse modulo the given modulus');
  return ((oldS % m) + m) % m;
}

/** Inverse of an odd m modulo 2^bits by Newton iteration: each step doubles the correct low bits. */
export function inverseModPowerOfTwo(m: bigint, bits: number): bigint {
  if ((m & 1n) === 0n) fail('even-modulus', 'only odd numbers are invertible modulo a power of two');
  const mask = (1n << BigInt(bits)) - 1n;
  let x = 1n;
  for (let correct = 1; correct < bits; correct *= 2) {
    x = (x * (2n - m * x)) & mask;
  }
  return x;
}
