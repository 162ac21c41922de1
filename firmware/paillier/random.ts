/**
 * Randomness is injected: the meter passes its hardware generator, the host node:crypto.
 * Nothing here falls back to Math.random, which is not cryptographic in XS or V8.
 */
import { bitLength, bytesToBigInt } from '../bytes.ts';
import { fail } from '../errors.ts';
import { gcd } from './numbers.ts';

export type RandomBytes = (length: number) => Uint8Array;

/** Rejection sampling gives up only if the source is broken (e.g. returns constant bytes). */
const MAX_DRAWS = 128;

/** Uniform in [1, bound) by rejection on the masked top byte, so there is no modulo bias. */
export function randomBelow(bound: bigint, random: RandomBytes): bigint {
  const bits = bitLength(bound);
  const bytes = Math.ceil(bits / 8);
  const topMask = 0xff >> (bytes * 8 - bits);
  for (let i = 0; i < MAX_DRAWS; i++) {
    const buf = random(bytes);
    if (!(buf instanceof Uint8Array) || buf.length !== bytes) fail('bad-random-source', `random source must return ${bytes} bytes`);
    const draw = Uint8Array.from(buf);
    draw[0] &= topMask;
    const value = bytesToBigInt(draw);
    if (value > 0n && value < bound) return value;
  }
  return fail('bad-random-source', 'random source keeps producing out-of-range values');
}

/** Uniform in [0, 2^bits): no rejection needed, the top byte is only masked. */
export function randomBits(bits: number, random: RandomBytes): bigint {
  const bytes = Math.ceil(bits / 8);
  const buf = random(bytes);
  if (!(buf instanceof Uint8Array) || buf.length !== bytes) fail('bad-random-source', `random source must return ${bytes} bytes`);
  const draw = Uint8Array.from(buf);
  draw[0] &= 0xff >> (bytes * 8 - bits);
  return bytesToBigInt(draw);
}

/** Uniform r in Z*_n. */
export function randomUnit(n: bigint, random: RandomBytes): bigint {
  for (let i = 0; i < MAX_DRAWS; i++) {
    const r = randomBelow(n, random);
    if (gcd(r, n) === 1n) return r;
  }
  return fail('bad-random-source', 'random source keeps producing values that share a factor with n');
}
