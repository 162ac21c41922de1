/** A key id names a public key in every message: the first 8 bytes of SHA-256 of n, as hex. */
import { sha256 } from '@noble/hashes/sha2.js';
import { bigIntToBytes, byteLength, bytesToHex } from '../bytes.ts';

export function deriveKeyId(n: bigint): string {
  return bytesToHex(sha256(bigIntToBytes(n, byteLength(n))).subarray(0, 8));
}
