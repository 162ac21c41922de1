/**
 * Text and byte forms of public keys and ciphertexts. Decoders accept exactly one form and
 * name what is wrong with anything else.
 */
import { bigIntToBytes, bytesToBigInt, bytesToHex, hexToBytes } from '../bytes.ts';
import { fail, MeterveilError } from '../errors.ts';
import { deriveKeyId } from './key-id.ts';
import { gcd } from './numbers.ts';
import { PaillierPublicKey, type PublicKeyOptions, type ShortExponentBase } from './public-key.ts';

export const KEY_SCHEME = 'paillier';
/** Version 2 adds the short-exponent base "hs" and "exponentBits"; version 1 (n only) means classic r^n. */
export const KEY_VERSION = 2;
export const CLASSIC_KEY_VERSION = 1;
/** Smaller moduli exist only for fast property tests; real keys are 2048 or 3072 bits. */
export const MIN_MODULUS_BITS = 64;
export const MAX_MODULUS_BITS = 4096;

export interface PublicKeyJson {
  scheme: 'paillier';
  version: 1 | 2;
  keyId: string;
  n: string;
  /** Version 2 only. */
  hs?: string;
  exponentBits?: number;
}

export function bigIntToHex(value: bigint): string {
  return value.toString(16);
}

/** Lowercase hex without prefix or leading zeros, as written in key files. */
export function bigIntFromHex(hex: unknown, what: string): bigint {
  if (typeof hex !== 'string' || !/^[1-9a-f][0-9a-f]*$/.test(hex)) {
    fail('malformed-key', `${what} must be lowercase hex without prefix or leading zeros`);
  }
  return BigInt('0x' + hex);
}

export function publicKeyToJson(key: PaillierPublicKey): PublicKeyJson {
  const se = key.shortExponent;
  if (!se) return { scheme: KEY_SCHEME, version: CLASSIC_KEY_VERSION, keyId: key.keyId, n: bigIntToHex(key.n) };
  return {
    scheme: KEY_SCHEME,
    version: KEY_VERSION,
    keyId: key.keyId,
    n: bigIntToHex(key.n),
    hs: bigIntToHex(se.hs),
    exponentBits: se.exponentBits,
  };
}

export function parseJsonObject(input: unknown, what: string): Record<string, unknown> {
  let value = input;
  if (typeof input === 'string') {
    try {
      value = JSON.parse(input);
    } catch {
      fail('malformed-key', `${what} is not valid JSON`);
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('malformed-key', `${what} must be a JSON object`);
  return value as Record<string, unknown>;
}

export interface KeyHeader {
  n: bigint;
  keyId: string;
  shortExponent?: ShortExponentBase;
}

/** Checks the fields shared by public and private key files: n, and hs with exponentBits in version 2. */
export function readKeyHeader(obj: Record<string, unknown>, what: string): KeyHeader {
  if (obj.scheme !== KEY_SCHEME) fail('unsupported-key', `${what}: scheme must be "${KEY_SCHEME}"`);
  if (obj.version !== KEY_VERSION && obj.version !== CLASSIC_KEY_VERSION)
    fail('unsupported-key', `${what}: version must be ${CLASSIC_KEY_VERSION} or ${KEY_VERSION}`);
  if (typeof obj.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(obj.keyId))
    fail('malformed-key', `${what}: keyId must be 16 lowercase hex characters`);
  const n = bigIntFromHex(obj.n, `${what}: n`);
  const bits = n.toString(2).length;
  if ((n & 1n) === 0n || bits < MIN_MODULUS_BITS || bits > MAX_MODULUS_BITS) {
    fail('malformed-key', `${what}: n must be odd and ${MIN_MODULUS_BITS}-${MAX_MODULUS_BITS} bits`);
  }
  if (deriveKeyId(n) !== obj.keyId) fail('key-id-mismatch', `${what}: keyId does not match n`);
  if (obj.version === CLASSIC_KEY_VERSION) {
    if (obj.hs !== undefined || obj.exponentBits !== undefined)
      fail(
        'malformed-key',
        `${what}: version ${CLASSIC_KEY_VERSION} has no hs or exponentBits; short-exponent keys are version ${KEY_VERSION}`,
      );
    return { n, keyId: obj.keyId };
  }
  const hs = bigIntFromHex(obj.hs, `${what}: hs`);
  const exponentBits = obj.exponentBits;
  if (typeof exponentBits !== 'number' || !Number.isInteger(exponentBits))
    fail('malformed-key', `${what}: exponentBits must be an integer`);
  return { n, keyId: obj.keyId, shortExponent: { hs, exponentBits } };
}

/** Accepts a JSON string or a parsed object; extra fields (e.g. threshold data) are ignored. */
export function publicKeyFromJson(input: unknown, options: Omit<PublicKeyOptions, 'keyId' | 'shortExponent'> = {}): PaillierPublicKey {
  const { n, keyId, shortExponent } = readKeyHeader(parseJsonObject(input, 'public key'), 'public key');
  return new PaillierPublicKey(n, { ...options, keyId, shortExponent });
}

export function ciphertextToBytes(key: PaillierPublicKey, c: bigint): Uint8Array {
  return bigIntToBytes(c, key.ciphertextBytes);
}

export function ciphertextToHex(key: PaillierPublicKey, c: bigint): string {
  return bytesToHex(ciphertextToBytes(key, c));
}

/**
 * A ciphertext must be a unit modulo n^2: 0 < c < n^2 and gcd(c, n) = 1. The gcd costs about
 * ten homomorphic additions in V8; a receiver on a hot path may check each report with
 * isCiphertextShaped (range, and not a multiple of n: any other non-unit would reveal a factor of
 * n, which nobody without the private key can construct) and run checkCiphertext on the product,
 * which is a unit exactly when every factor is.
 */
export function checkCiphertext(key: PaillierPublicKey, c: bigint): bigint {
  if (c <= 0n || c >= key.nSquared || gcd(c % key.n, key.n) !== 1n) {
    fail('ciphertext-out-of-range', 'ciphertext is not in Z*_{n^2}');
  }
  return c;
}

export function isCiphertextShaped(key: PaillierPublicKey, c: bigint): boolean {
  return c > 0n && c < key.nSquared && c % key.n !== 0n;
}

export function ciphertextFromBytes(key: PaillierPublicKey, bytes: Uint8Array): bigint {
  if (!(bytes instanceof Uint8Array) || bytes.length !== key.ciphertextBytes) {
    fail('ciphertext-length', `ciphertext must be exactly ${key.ciphertextBytes} bytes`);
  }
  return checkCiphertext(key, bytesToBigInt(bytes));
}

export function ciphertextFromHex(key: PaillierPublicKey, hex: string): bigint {
  if (typeof hex !== 'string' || hex.length !== key.ciphertextBytes * 2) {
    fail('ciphertext-length', `ciphertext must be exactly ${key.ciphertextBytes * 2} hex characters`);
  }
  let bytes: Uint8Array;
  try {
    bytes = hexToBytes(hex, 'ciphertext');
  } catch (e) {
    if (e instanceof MeterveilError) fail('malformed-ciphertext', 'ciphertext must be lowercase hex');
    throw e;
  }
  return ciphertextFromBytes(key, bytes);
}
