/**
 * Paillier public-key operations with g = n + 1, which turns g^m mod n^2 into 1 + mn and
 * leaves r^n as the only exponentiation: it can be done ahead of time (see pool.ts).
 *
 * A key may carry hs = h^n mod n^2 (h = -y^2 mod n, made at key generation): then the randomness
 * is hs^a = (h^a)^n for a short uniform a, Damgard, Jurik and Nielsen's variant, half the
 * exponent of a full r^n. Ciphertexts are ordinary Paillier ciphertexts either way: r = h^a.
 */
import { bitLength, byteLength } from '../bytes.ts';
import { fail } from '../errors.ts';
import { createSquareModArith, type ModArith, type SquareArithKind } from './arith.ts';
import { deriveKeyId } from './key-id.ts';
import { gcd } from './numbers.ts';
import { randomBits, randomUnit, type RandomBytes } from './random.ts';

/** Short-exponent randomness: the public base and the exponent length (see docs/keys.md). */
export interface ShortExponentBase {
  hs: bigint;
  exponentBits: number;
}

/** The shortest exponent a key may ask for: half the modulus, as the assumption needs. */
export function minExponentBits(modulusBits: number): number {
  return Math.ceil(modulusBits / 2);
}

export interface PublicKeyOptions {
  /** Taken as given when the key comes from a file whose key id was already checked against n. */
  keyId?: string;
  /** Arithmetic modulo n^2: a kind, or a factory for another implementation (the host's native one). */
  arith?: SquareArithKind | ((nSquared: bigint) => ModArith);
  /** Absent: classic randomness r^n for uniform r in Z*_n. */
  shortExponent?: ShortExponentBase;
}

export class PaillierPublicKey {
  readonly n: bigint;
  readonly nSquared: bigint;
  readonly keyId: string;
  readonly bits: number;
  /** Bytes of n; a ciphertext takes twice as many. */
  readonly byteLength: number;
  readonly ciphertextBytes: number;
  readonly arith: ModArith;
  readonly shortExponent: ShortExponentBase | undefined;

  constructor(n: bigint, options: PublicKeyOptions = {}) {
    if (n < 15n || (n & 1n) === 0n) fail('bad-modulus', 'n must be an odd composite');
    this.n = n;
    this.nSquared = n * n;
    this.bits = bitLength(n);
    this.byteLength = byteLength(n);
    this.ciphertextBytes = 2 * this.byteLength;
    this.keyId = options.keyId ?? deriveKeyId(n);
    this.arith = typeof options.arith === 'function' ? options.arith(this.nSquared) : createSquareModArith(n, options.arith);
    const se = options.shortExponent;
    if (se) {
      if (se.hs <= 1n || se.hs >= this.nSquared || gcd(se.hs % n, n) !== 1n)
        fail('bad-short-exponent', 'hs must be a unit modulo n^2 other than 1');
      if (!Number.isInteger(se.exponentBits) || se.exponentBits < minExponentBits(this.bits) || se.exponentBits > this.bits)
        fail('bad-short-exponent', `exponentBits must be an integer from ${minExponentBits(this.bits)} to ${this.bits}`);
      this.shortExponent = { hs: se.hs, exponentBits: se.exponentBits };
    }
  }

  /** The same n and the same randomness base: what a holder of one key must check before vouching for the other. */
  sameKeyAs(other: PaillierPublicKey): boolean {
    const a = this.shortExponent;
    const b = other.shortExponent;
    if (this.n !== other.n || !a !== !b) return false;
    return !a || !b || (a.hs === b.hs && a.exponentBits === b.exponentBits);
  }

  private checkPlaintext(m: bigint) {
    if (typeof m !== 'bigint' || m < 0n || m >= this.n) fail('plaintext-out-of-range', 'plaintext must be in [0, n)');
  }

  /**
   * The offline part of encryption: r^n mod n^2, for a fresh uniform r in Z*_n, or with a
   * short-exponent base hs^a for a fresh uniform a in [0, 2^exponentBits).
   */
  precomputeRn(random: RandomBytes): bigint {
    const se = this.shortExponent;
    return se ? this.arith.pow(se.hs, randomBits(se.exponentBits, random)) : this.arith.pow(randomUnit(this.n, random), this.n);
  }

  /**
   * The online part: (1 + mn) r^n = r^n + n((m r^n) mod n) mod n^2. One product modulo n
   * instead of one modulo n^2; the sum is below 2n^2, so one subtraction reduces it.
   */
  encryptWithRn(m: bigint, rn: bigint): bigint {
    this.checkPlaintext(m);
    return this.shiftByPlaintext(rn, m);
  }

  encrypt(m: bigint, random: RandomBytes): bigint {
    this.checkPlaintext(m);
    return this.shiftByPlaintext(this.precomputeRn(random), m);
  }

  /** Enc(m1) * Enc(m2) = Enc(m1 + m2 mod n). */
  add(...ciphertexts: bigint[]): bigint {
    return this.arith.product(ciphertexts);
  }

  /** The same sum over any number of ciphertexts, without spreading them into arguments. */
  addAll(ciphertexts: Iterable<bigint>): bigint {
    return this.arith.product(ciphertexts);
  }

  /** Enc(m) * (1 + kn) = Enc(m + k). */
  addPlain(c: bigint, k: bigint): bigint {
    this.checkPlaintext(k);
    return this.shiftByPlaintext(c, k);
  }

  /** Enc(m)^k = Enc(km mod n). */
  mulPlain(c: bigint, k: bigint): bigint {
    this.checkPlaintext(k);
    return this.arith.pow(c, k);
  }

  /** Same plaintext, fresh randomness: multiply by a new r^n. */
  rerandomize(c: bigint, rn: bigint): bigint {
    return this.arith.mul(c, rn);
  }

  private shiftByPlaintext(c: bigint, m: bigint): bigint {
    const sum = c + this.n * ((m * c) % this.n);
    return sum >= this.nSquared ? sum - this.nSquared : sum;
  }
}
