/**
 * Keys a meter derives from its device key, which never leaves the meter and its provisioning:
 * one acknowledgement key per group, given only to that group's aggregator, so that one group's
 * aggregator cannot acknowledge a report for another group the meter is also in. HMAC-SHA256 under
 * the device key with a domain-separated label, computed once per key at start.
 */
import type { Mac } from './mac.ts';

const ACK_KEY_LABEL = 'meterveil/v1/ack-key\n';

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The key that authenticates acknowledgements of `groupId` to this meter. */
export function deriveAckKey(deviceKey: Uint8Array, groupId: string, mac: Mac): Uint8Array {
  return mac(deviceKey, ascii(ACK_KEY_LABEL + groupId));
}
