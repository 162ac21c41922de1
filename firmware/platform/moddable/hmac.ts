/**
 * HMAC-SHA256 (RFC 2104) over the SDK's native SHA-256 (`crypt` Digest): the MAC the codec is
 * given on the device, where the portable implementation would cost far more XS time.
 */
import { Digest } from 'crypt';
import type { Mac } from '../../protocol/mac.ts';

const BLOCK_BYTES = 64;

function sha256(...parts: Uint8Array[]): Uint8Array {
  const digest = new Digest('SHA256');
  for (const part of parts) digest.write(part.slice().buffer as ArrayBuffer);
  return new Uint8Array(digest.close());
}

export const nativeHmacSha256: Mac = (key, message) => {
  const block = new Uint8Array(BLOCK_BYTES);
  block.set(key.length > BLOCK_BYTES ? sha256(key) : key);
  const inner = block.map((b) => b ^ 0x36);
  const outer = block.map((b) => b ^ 0x5c);
  return sha256(outer, sha256(inner, message));
};
