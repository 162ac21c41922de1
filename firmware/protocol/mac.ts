/**
 * Message authentication for reports and acknowledgements. The codec takes the MAC as a
 * function so the device can pass the SDK's native digest; this portable default runs in XS and Node.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';

export type Mac = (key: Uint8Array, message: Uint8Array) => Uint8Array;

export const MAC_BYTES = 32;

/** One HMAC computed a few blocks at a time (the meter spreads a report's over loop turns). */
export interface MacState {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

export type MacStream = (key: Uint8Array) => MacState;

export const hmacSha256: Mac = (key, message) => hmac(sha256, key, message);
