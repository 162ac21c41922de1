/** Byte, hex and BigInt conversions that run unchanged in XS and in Node (no Buffer). */
import { fail } from './errors.ts';

const HEX_DIGITS = '0123456789abcdef';

export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) {
    out += HEX_DIGITS[bytes[i] >> 4] + HEX_DIGITS[bytes[i] & 15];
  }
  return out;
}

/** Strict lowercase hex, even length, no prefix: the only text form meterveil writes and reads. */
export function hexToBytes(hex: string, what = 'hex'): Uint8Array {
  if (typeof hex !== 'string' || hex.length % 2 !== 0 || !/^[0-9a-f]*$/.test(hex)) {
    fail('malformed-hex', `${what} must be lowercase hex of even length`);
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
  return out;
}

export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt('0x' + bytesToHex(bytes));
}

/**
 * Big-endian, left-padded to exactly `length` bytes; refuses values that do not fit. Works in
 * 32-bit words by shifting: XS converts a 4096-bit BigInt to hex with a generic division (about
 * 4 ms here), a hundred times slower than this.
 */
export function bigIntToBytes(value: bigint, length: number): Uint8Array {
  if (value < 0n) fail('out-of-range', 'negative value cannot be encoded');
  const out = new Uint8Array(length);
  let rest = value;
  let i = length;
  for (; i >= 4 && rest > 0n; i -= 4) {
    const word = Number(rest & 0xffffffffn);
    out[i - 4] = word >>> 24;
    out[i - 3] = (word >>> 16) & 255;
    out[i - 2] = (word >>> 8) & 255;
    out[i - 1] = word & 255;
    rest >>= 32n;
  }
  for (; i > 0 && rest > 0n; i--) {
    out[i - 1] = Number(rest & 255n);
    rest >>= 8n;
  }
  if (rest > 0n) fail('out-of-range', `value does not fit in ${length} bytes`);
  return out;
}

/** By 32-bit words, for the same reason as bigIntToBytes. */
export function bitLength(value: bigint): number {
  if (value <= 0n) return 0;
  let bits = 0;
  let rest = value;
  while (rest > 0xffffffffn) {
    rest >>= 32n;
    bits += 32;
  }
  return bits + Number(rest).toString(2).length;
}

export function byteLength(value: bigint): number {
  return Math.ceil(bitLength(value) / 8);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
