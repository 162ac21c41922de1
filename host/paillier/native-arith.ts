/**
 * The host's arithmetic: exponentiation through OpenSSL (constant-time Montgomery, several times
 * faster than BigInt in V8), multiplication with BigInt `%`, which OpenSSL cannot beat through
 * node:crypto's call overhead.
 */
import { createModArith, type ModArith } from '../../firmware/paillier/arith.ts';
import { PaillierPublicKey, type ShortExponentBase } from '../../firmware/paillier/public-key.ts';
import { modPow } from './openssl-pow.ts';

export function createNativeArith(modulus: bigint): ModArith {
  const plain = createModArith(modulus, 'plain');
  return {
    kind: 'openssl',
    modulus,
    mul: (a, b) => plain.mul(a, b),
    product: (values) => plain.product(values),
    pow: (base, exp) => modPow(base, exp, modulus),
  };
}

/** A public key whose operations run at host speed. */
export function hostPublicKey(n: bigint, keyId?: string, shortExponent?: ShortExponentBase): PaillierPublicKey {
  return new PaillierPublicKey(n, { keyId, arith: createNativeArith, shortExponent });
}
