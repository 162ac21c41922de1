/**
 * Key rotation announcements: the provider's new public key, the slot from which meters encrypt
 * under it, and the key it replaces, signed with the provider's Ed25519 signing key. Portable
 * (XS and Node): a meter verifies with the signing public key it was provisioned with, and
 * switches keys at the start of `effectiveSlot`; every slot before it stays under the old key, so
 * no slot is ever encrypted under a mix of keys.
 *
 * JSON: {"scheme":"meterveil-key-announcement","version":1,"keyId","previousKeyId","effectiveSlot",
 *        "publicKey":{"scheme":"paillier","version":1,"keyId","n"},"signature":"<64 bytes hex>"}
 * The signature covers DOMAIN followed by the canonical JSON of every field but the signature,
 * rebuilt field by field (never the received bytes), so formatting cannot change what is signed.
 */
import { bytesToHex, hexToBytes } from '../bytes.ts';
import { fail, MeterveilError } from '../errors.ts';
import { parseJsonObject, publicKeyFromJson, publicKeyToJson } from '../paillier/codec.ts';
import type { PaillierPublicKey } from '../paillier/public-key.ts';
import { verifyEd25519 } from './ed25519.ts';

export const ANNOUNCEMENT_SCHEME = 'meterveil-key-announcement';
export const KEY_ANNOUNCEMENT_TOPIC = 'meterveil/v1/keys/announcements';
const DOMAIN = 'meterveil/v1/key-announcement\n';
const FIELDS = ['scheme', 'version', 'keyId', 'previousKeyId', 'effectiveSlot', 'publicKey', 'signature'];

export interface KeyAnnouncement {
  publicKey: PaillierPublicKey;
  previousKeyId: string;
  effectiveSlot: number;
}

function malformed(message: string): never {
  return fail('malformed-announcement', message);
}

/** The fields the signature covers, in the order they are serialised. */
function signedFields(a: KeyAnnouncement) {
  return {
    scheme: ANNOUNCEMENT_SCHEME,
    version: 1,
    keyId: a.publicKey.keyId,
    previousKeyId: a.previousKeyId,
    effectiveSlot: a.effectiveSlot,
    publicKey: publicKeyToJson(a.publicKey),
  };
}

/** The exact bytes the signature covers. */
export function announcementMessage(a: KeyAnnouncement): Uint8Array {
  return new TextEncoder().encode(DOMAIN + JSON.stringify(signedFields(a)));
}

export function announcementToJson(a: KeyAnnouncement, signature: Uint8Array): Record<string, unknown> {
  return { ...signedFields(a), signature: bytesToHex(signature) };
}

/**
 * Checks an announcement against the signing key and the meter's state; returns the new key and
 * its first slot. Reasons: malformed-announcement, bad-signature, wrong-previous-key (the
 * announcement does not follow the key in use), stale-announcement (its slot has begun or passed).
 */
export function verifyKeyAnnouncement(
  input: unknown,
  signingPublicKey: Uint8Array,
  state: { currentKeyId: string; currentSlot: number },
): KeyAnnouncement {
  let obj: Record<string, unknown>;
  try {
    obj = parseJsonObject(input, 'key announcement');
  } catch (e) {
    if (e instanceof MeterveilError) malformed(e.message);
    throw e;
  }
  for (const key of Object.keys(obj)) if (!FIELDS.includes(key)) malformed(`unknown field "${key}"`);
  if (obj.scheme !== ANNOUNCEMENT_SCHEME || obj.version !== 1) malformed(`scheme must be "${ANNOUNCEMENT_SCHEME}", version 1`);
  const slot = obj.effectiveSlot;
  if (typeof slot !== 'number' || !Number.isInteger(slot) || slot < 0 || slot > 0xffffffff) malformed('effectiveSlot must be a u32');
  if (typeof obj.previousKeyId !== 'string' || !/^[0-9a-f]{16}$/.test(obj.previousKeyId))
    malformed('previousKeyId must be 16 lowercase hex characters');
  if (typeof obj.signature !== 'string' || obj.signature.length !== 128) malformed('signature must be 64 bytes of hex');
  let publicKey: PaillierPublicKey;
  let signature: Uint8Array;
  try {
    publicKey = publicKeyFromJson(obj.publicKey);
    signature = hexToBytes(obj.signature as string, 'signature');
  } catch (e) {
    if (e instanceof MeterveilError) malformed(e.message);
    throw e;
  }
  if (obj.keyId !== publicKey.keyId) malformed('keyId does not match the public key');
  const announcement: KeyAnnouncement = { publicKey, previousKeyId: obj.previousKeyId as string, effectiveSlot: slot as number };
  if (!verifyEd25519(signature, announcementMessage(announcement), signingPublicKey))
    fail('bad-signature', "the announcement is not signed by the provider's signing key");
  if (announcement.previousKeyId !== state.currentKeyId) {
    fail('wrong-previous-key', `the announcement replaces key ${announcement.previousKeyId}, the key in use is ${state.currentKeyId}`);
  }
  if (announcement.effectiveSlot <= state.currentSlot) {
    fail('stale-announcement', `slot ${announcement.effectiveSlot} has already begun (current slot ${state.currentSlot})`);
  }
  return announcement;
}
