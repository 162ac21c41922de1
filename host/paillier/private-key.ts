/**
 * Decryption by the Chinese remainder theorem: two exponentiations modulo p^2 and q^2 with
 * exponents p-1 and q-1, each a quarter of the work of one exponentiation modulo n^2.
 */
import { fail } from '../../firmware/errors.ts';
import type { ModArith } from '../../firmware/paillier/arith.ts';
import { checkCiphertext } from '../../firmware/paillier/codec.ts';
import { modInverse } from '../../firmware/paillier/numbers.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { createNativeArith, hostPublicKey } from './native-arith.ts';

interface PrimeHalf {
  prime: bigint;
  square: ModArith;
  /** L_p(g^(p-1) mod p^2)^-1 mod p. */
  h: bigint;
}

function primeHalf(prime: bigint, g: bigint): PrimeHalf {
  const square = createNativeArith(prime * prime);
  const l = (square.pow(g, prime - 1n) - 1n) / prime;
  return { prime, square, h: modInverse(l, prime) };
}

function decryptHalf(half: PrimeHalf, c: bigint): bigint {
  const l = (half.square.pow(c, half.prime - 1n) - 1n) / half.prime;
  return (l * half.h) % half.prime;
}

export class PaillierPrivateKey {
  readonly publicKey: PaillierPublicKey;
  readonly p: bigint;
  readonly q: bigint;
  private readonly pHalf: PrimeHalf;
  private readonly qHalf: PrimeHalf;
  private readonly qInverseModP: bigint;

  constructor(p: bigint, q: bigint, publicKey?: PaillierPublicKey) {
    if (p === q) fail('bad-private-key', 'p and q must differ');
    const n = p * q;
    if (publicKey && publicKey.n !== n) fail('bad-private-key', 'p * q does not equal the public n');
    this.publicKey = publicKey ?? hostPublicKey(n);
    this.p = p;
    this.q = q;
    const g = n + 1n;
    this.pHalf = primeHalf(p, g);
    this.qHalf = primeHalf(q, g);
    this.qInverseModP = modInverse(q, p);
  }

  /** The plaintext in [0, n); refuses anything that is not a ciphertext under this key. */
  decrypt(c: bigint): bigint {
    checkCiphertext(this.publicKey, c);
    const mp = decryptHalf(this.pHalf, c);
    const mq = decryptHalf(this.qHalf, c);
    const diff = (((mp - mq) % this.p) + this.p) % this.p;
    return mq + this.q * ((diff * this.qInverseModP) % this.p);
  }
}
