/**
 * A meter's mask for (key id, slot): HMAC-SHA-256 under a 128-bit key it shares with one key
 * holder, in counter mode to W bits. A key is held by the provider (single-key deployments) or by
 * one custodian each (verifiable deployments: the mask is the sum of the n custodians' masks, and
 * none of them alone can remove it). A mask must never cover two different values: a meter sends
 * at most one report per (key id, slot) (firmware/masked/ledger.ts).
 */
import { hexToBytes } from '../bytes.ts';
import { fail } from '../errors.ts';
import type { Mac } from '../protocol/mac.ts';
import { addMod, reduce, type MaskedParams } from './params.ts';

const MASK_KEY_LABEL = 'meterveil/v1/mask-key\n';
const MASK_LABEL = 'meterveil/v1/mask\n';
/** 128 bits: the PRF's security, and what an Espruino board keeps per holder. */
export const MASK_KEY_BYTES = 16;

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The key a meter shares with holder `holder` (0: the provider; 1..n: custodian i) for key id
 * `keyId`, derived from its device key; a new key id (rotation by provisioning) gives new keys.
 */
export function deriveMaskKey(deviceKey: Uint8Array, keyId: string, holder: number, mac: Mac): Uint8Array {
  return mac(deviceKey, ascii(`${MASK_KEY_LABEL}${keyId}\n${holder}`)).slice(0, MASK_KEY_BYTES);
}

/** The mask of one holder's key for (key id, slot), modulo 2^W. */
export function maskOf(maskKey: Uint8Array, keyId: string, slot: number, params: MaskedParams, mac: Mac): Uint8Array {
  if (maskKey.length !== MASK_KEY_BYTES) fail('bad-mask-key', `a mask key is ${MASK_KEY_BYTES} bytes, this one ${maskKey.length}`);
  if (!Number.isInteger(slot) || slot < 0 || slot > 0xffffffff) fail('out-of-range', 'slot must be an integer in 0..2^32-1');
  const label = ascii(MASK_LABEL);
  const id = hexToBytes(keyId, 'key id');
  const input = new Uint8Array(label.length + id.length + 5);
  input.set(label, 0);
  input.set(id, label.length);
  const at = label.length + id.length;
  input[at] = slot >>> 24;
  input[at + 1] = (slot >>> 16) & 255;
  input[at + 2] = (slot >>> 8) & 255;
  input[at + 3] = slot & 255;
  const out = new Uint8Array(params.bytes);
  for (let block = 0, filled = 0; filled < params.bytes; block++) {
    input[at + 4] = block;
    const digest = mac(maskKey, input);
    const take = Math.min(digest.length, params.bytes - filled);
    out.set(digest.subarray(0, take), filled);
    filled += take;
  }
  return reduce(out, params);
}

/** The meter's whole mask: the sum of its holders' masks (one holder, or the n custodians). */
export function meterMask(maskKeys: readonly Uint8Array[], keyId: string, slot: number, params: MaskedParams, mac: Mac): Uint8Array {
  if (maskKeys.length === 0) fail('bad-mask-key', 'a masked meter needs at least one mask key');
  let sum = maskOf(maskKeys[0], keyId, slot, params, mac);
  for (let i = 1; i < maskKeys.length; i++) sum = addMod(sum, maskOf(maskKeys[i], keyId, slot, params, mac), params);
  return sum;
}
