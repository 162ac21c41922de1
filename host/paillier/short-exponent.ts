/**
 * The short-exponent base of Damgard, Jurik and Nielsen: hs = h^n mod n^2 with h = -y^2 mod n for
 * a random y. With p = q = 3 mod 4 and gcd(p - 1, q - 1) = 2, -1 is a non-square modulo p and q,
 * and h generates, with overwhelming probability, the cyclic group of Jacobi symbol 1 modulo n;
 * hs^a for a short uniform a is then assumed indistinguishable from a uniform r^n (docs/keys.md).
 */
import { bitLength } from '../../firmware/bytes.ts';
import { gcd } from '../../firmware/paillier/numbers.ts';
import { minExponentBits, type ShortExponentBase } from '../../firmware/paillier/public-key.ts';
import { randomUnit, type RandomBytes } from '../../firmware/paillier/random.ts';
import { modPow } from './openssl-pow.ts';

/** p = q = 3 mod 4 and gcd(p - 1, q - 1) = 2; safe primes qualify. */
export function shortExponentAdmissible(p: bigint, q: bigint): boolean {
  return p % 4n === 3n && q % 4n === 3n && gcd(p - 1n, q - 1n) === 2n;
}

export function shortExponentBase(n: bigint, random: RandomBytes): ShortExponentBase {
  const y = randomUnit(n, random);
  const h = n - ((y * y) % n);
  return { hs: modPow(h, n, n * n), exponentBits: minExponentBits(bitLength(n)) };
}
