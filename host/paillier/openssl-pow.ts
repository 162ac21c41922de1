/**
 * Modular exponentiation through OpenSSL. node:crypto exposes OpenSSL's constant-time Montgomery
 * exponentiation only through Diffie-Hellman: with "prime" set to any odd modulus, computeSecret
 * returns base^privateKey mod modulus. It is several times faster than BigInt in V8 and does not
 * leak the secret exponent (a key share, a proof nonce) through timing, which BigInt would.
 * OpenSSL refuses moduli under 512 bits and bases outside [2, modulus - 2]; those cases, which
 * only fast tests at toy sizes and degenerate bases meet, go through BigInt.
 */
import { createDiffieHellman, type DiffieHellman } from 'node:crypto';
import { bitLength } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { createModArith } from '../../firmware/paillier/arith.ts';

const OPENSSL_MIN_MODULUS_BITS = 512;
/** Keys in use at once are few (one or two during rotation); the cache only saves OpenSSL's setup. */
const CACHE_LIMIT = 8;
const engines = new Map<bigint, DiffieHellman>();

function toBuffer(value: bigint): Buffer {
  const hex = value.toString(16);
  return Buffer.from(hex.length % 2 ? '0' + hex : hex, 'hex');
}

function fromBuffer(buffer: Buffer): bigint {
  return buffer.length === 0 ? 0n : BigInt('0x' + buffer.toString('hex'));
}

function engineFor(modulus: bigint): DiffieHellman {
  let engine = engines.get(modulus);
  if (!engine) {
    if (engines.size >= CACHE_LIMIT) engines.delete(engines.keys().next().value as bigint);
    engine = createDiffieHellman(toBuffer(modulus), toBuffer(2n));
    engines.set(modulus, engine);
  }
  return engine;
}

/** base^exp mod modulus for an odd modulus and exp >= 0. */
export function modPow(base: bigint, exp: bigint, modulus: bigint): bigint {
  if (modulus < 3n || (modulus & 1n) === 0n) fail('bad-modulus', 'modulus must be odd and above 2');
  if (exp < 0n) fail('negative-exponent', 'exponent must be non-negative');
  const b = ((base % modulus) + modulus) % modulus;
  if (exp === 0n) return 1n;
  if (bitLength(modulus) < OPENSSL_MIN_MODULUS_BITS || b < 2n || b > modulus - 2n) {
    return createModArith(modulus, 'plain').pow(b, exp);
  }
  const engine = engineFor(modulus);
  engine.setPrivateKey(toBuffer(exp));
  try {
    return fromBuffer(engine.computeSecret(toBuffer(b)));
  } catch (e) {
    // OpenSSL refuses a Diffie-Hellman secret of 1 or modulus - 1, which are ordinary results
    // here (CRT decryption of an encryption of 0 yields 1); those are recomputed with BigInt.
    if ((e as NodeJS.ErrnoException).code !== 'ERR_CRYPTO_INVALID_KEYTYPE') throw e;
    return createModArith(modulus, 'plain').pow(b, exp);
  }
}
