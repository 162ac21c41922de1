/**
 * HMAC-SHA-256 (RFC 2104) in ES5 over Espruino's native `require("crypto").SHA256`, which has no
 * HMAC of its own. The padded inner and outer key blocks of each key are kept (a meter MACs with a
 * handful of long-lived keys): a message then costs the two native digests and two copies. Keys
 * are found by identity in a short list, since Espruino has no Map or WeakMap.
 */
import type { Mac } from '../../protocol/mac.ts';
import { cryptoModule } from './api.ts';

const BLOCK_BYTES = 64;
/** More keys than a meter holds (MAC, digest, custodians, masks, acknowledgements): the oldest is forgotten. */
const KEPT_KEYS = 24;

interface Pads {
  key: Uint8Array;
  inner: Uint8Array;
  outer: Uint8Array;
}

export function espruinoHmacSha256(): Mac {
  const sha256 = cryptoModule().SHA256;
  const kept: Pads[] = [];
  const digest = (pad: Uint8Array, message: Uint8Array): Uint8Array => {
    const input = new Uint8Array(BLOCK_BYTES + message.length);
    input.set(pad, 0);
    input.set(message, BLOCK_BYTES);
    return new Uint8Array(sha256(input));
  };
  const padsOf = (key: Uint8Array): Pads => {
    for (let i = 0; i < kept.length; i++) if (kept[i].key === key) return kept[i];
    const block = new Uint8Array(BLOCK_BYTES);
    block.set(key.length > BLOCK_BYTES ? new Uint8Array(sha256(key)) : key, 0);
    const inner = new Uint8Array(BLOCK_BYTES);
    const outer = new Uint8Array(BLOCK_BYTES);
    for (let i = 0; i < BLOCK_BYTES; i++) {
      inner[i] = block[i] ^ 0x36;
      outer[i] = block[i] ^ 0x5c;
    }
    const pads = { key, inner, outer };
    if (kept.length === KEPT_KEYS) kept.shift();
    kept.push(pads);
    return pads;
  };
  return (key, message) => {
    const pads = padsOf(key);
    return digest(pads.outer, digest(pads.inner, message));
  };
}
