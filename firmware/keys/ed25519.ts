/**
 * Ed25519 signature verification (RFC 8032 5.1.7, strict) on @noble/ed25519's point arithmetic,
 * without its base-point table. `ed.verify` multiplies the base point through a table of 4,224
 * precomputed points, built on first use and kept for good: several hundred kilobytes of XS heap
 * (measured in the Moddable lin build), while an ESP32 gives XS about 80 KB of chunks and 4,928
 * slots that do not grow. Here [S]B is a plain double-and-add, as noble already does for [k]A;
 * verifying uses public data only, so the loop need not be constant-time.
 *
 * The rules are noble's with { zip215: false }: canonical encodings of A and R (y < p), S < L,
 * small-order public keys refused, and the cofactored equation [8][S]B = [8]R + [8][k]A.
 */
import { sha512 } from '@noble/hashes/sha2.js';
import * as ed from '@noble/ed25519';

const L = ed.Point.CURVE().n;

function numberLE(bytes: Uint8Array): bigint {
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return value;
}

function baseMultiple(scalar: bigint): ed.Point {
  let result = ed.Point.ZERO;
  let addend = ed.Point.BASE;
  for (let rest = scalar; rest > 0n; rest >>= 1n) {
    if (rest & 1n) result = result.add(addend);
    addend = addend.double();
  }
  return result;
}

export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  const encodedR = signature.subarray(0, 32);
  const s = numberLE(signature.subarray(32));
  if (s >= L) return false;
  let A: ed.Point;
  let R: ed.Point;
  try {
    A = ed.Point.fromBytes(publicKey, false);
    R = ed.Point.fromBytes(encodedR, false);
  } catch {
    return false;
  }
  if (A.isSmallOrder()) return false;
  const k = ed.etc.mod(numberLE(sha512(ed.etc.concatBytes(encodedR, publicKey, message))), L);
  return R.add(A.multiply(k, false)).subtract(baseMultiple(s)).clearCofactor().is0();
}
