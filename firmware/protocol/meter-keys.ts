/**
 * Keys a meter derives from its device key, which never leaves the meter and its provisioning:
 * one acknowledgement key per group, given only to that group's aggregator, so that one group's
 * aggregator cannot acknowledge a report for another group the meter is also in; and one key per
 * custodian, given only to that custodian, under which each report carries an authenticator that
 * no aggregator can forge; and one status key, given only to the provider, under which the meter
 * authenticates its health status (meter-status.ts). HMAC-SHA256 under the device key with a domain-separated label,
 * computed once per key at start.
 */
import type { Mac } from './mac.ts';

const ACK_KEY_LABEL = 'meterveil/v1/ack-key\n';
const CUSTODIAN_KEY_LABEL = 'meterveil/v2/custodian-key\n';
const STATUS_KEY_LABEL = 'meterveil/v1/status-key\n';

function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The key that authenticates acknowledgements of `groupId` to this meter. */
export function deriveAckKey(deviceKey: Uint8Array, groupId: string, mac: Mac): Uint8Array {
  return mac(deviceKey, ascii(ACK_KEY_LABEL + groupId));
}

/** The key the report authenticator for custodian `index` (1, 2, ...) is made with. */
export function deriveCustodianKey(deviceKey: Uint8Array, index: number, mac: Mac): Uint8Array {
  return mac(deviceKey, ascii(CUSTODIAN_KEY_LABEL + String(index)));
}

/** The key the meter's health status is authenticated with (the provider's alone). */
export function deriveStatusKey(deviceKey: Uint8Array, mac: Mac): Uint8Array {
  return mac(deviceKey, ascii(STATUS_KEY_LABEL));
}
