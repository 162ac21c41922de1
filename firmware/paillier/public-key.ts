/**
 * Paillier public-key operations with g = n + 1, which turns g^m mod n^2 into 1 + mn and
 * leaves r^n as the only exponentiation: it can be done ahead of time (see pool.ts).
 */
import { bitLength, byteLength } from '../bytes.ts';
import { fail } from '../errors.ts';
import { createSquareModArith, type ModArith, type SquareArithKind } from './arith.ts';
import { deriveKeyId } from './key-id.ts';
import { randomUnit, type RandomBytes } from './random.ts';

export interface PublicKeyOptions {
  /** Taken as given when the key comes from a file whose key id was already checked against n. */
  keyId?: string;
  /** Arithmetic modulo n^2: a kind, or a factory for another implementation (the host's native one). */
  arith?: SquareArithKind | ((nSquared: bigint) => ModArith);
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

  constructor(n: bigint, options: PublicKeyOptions = {}) {
    if (n < 15n || (n & 1n) === 0n) fail('bad-modulus', 'n must be an odd composite');
    this.n = n;
    this.nSquared = n * n;
    this.bits = bitLength(n);
    this.byteLength = byteLength(n);
    this.ciphertextBytes = 2 * this.byteLength;
    this.keyId = options.keyId ?? deriveKeyId(n);
    this.arith = typeof options.arith === 'function' ? options.arith(this.nSquared) : createSquareModArith(n, options.arith);
  }

  private checkPlaintext(m: bigint) {
    if (typeof m !== 'bigint' || m < 0n || m >= this.n) fail('plaintext-out-of-range', 'plaintext must be in [0, n)');
  }

  /** The offline part of encryption: r^n mod n^2 for a fresh uniform r in Z*_n. */
  precomputeRn(random: RandomBytes): bigint {
    return this.arith.pow(randomUnit(this.n, random), this.n);
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
