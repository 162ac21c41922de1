/** Plain reference implementations and refusal probes that tests compare the product against. */
import { MeterveilError } from '../../firmware/errors.ts';

/** Right-to-left square-and-multiply with `%`: slow, obviously correct. */
export function referenceModPow(base: bigint, exp: bigint, m: bigint): bigint {
  let result = 1n % m;
  base %= m;
  for (; exp > 0n; exp >>= 1n) {
    if (exp & 1n) result = (result * base) % m;
    base = (base * base) % m;
  }
  return result;
}

/** The reason of the MeterveilError that `fn` throws; anything else fails the test. */
export function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof MeterveilError) return error.reason;
    throw error;
  }
  throw new Error('expected a MeterveilError');
}
