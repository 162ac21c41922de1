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
 *
 * In a threshold deployment the provider holds no private key, and a key it alone announced could
 * be an ordinary key it holds the factors of. There the announcement also carries
 * "cosignatures":[{"index":i,"signature":"<64 bytes hex>"}], custodian i's Ed25519 signature over
 * the same bytes; a custodian gives one only for a key it holds a share of. A meter (or aggregator)
 * provisioned with the custodians' signing keys and the threshold t accepts an announcement only
 * with valid cosignatures of at least t distinct custodians.
 */
import { bytesToHex, hexToBytes } from '../bytes.ts';
import { fail, MeterveilError } from '../errors.ts';
import { parseJsonObject, publicKeyFromJson, publicKeyToJson } from '../paillier/codec.ts';
import type { PaillierPublicKey } from '../paillier/public-key.ts';
import { verifyEd25519 } from './ed25519.ts';

export const ANNOUNCEMENT_SCHEME = 'meterveil-key-announcement';
export const KEY_ANNOUNCEMENT_TOPIC = 'meterveil/v1/keys/announcements';
const DOMAIN = 'meterveil/v1/key-announcement\n';
const FIELDS = ['scheme', 'version', 'keyId', 'previousKeyId', 'effectiveSlot', 'publicKey', 'signature', 'cosignatures'];

/** The custodians whose cosignatures make a quorum: their Ed25519 public keys, custodian i at keys[i - 1]. */
export interface Cosigners {
  threshold: number;
  keys: Uint8Array[];
}

export interface Cosignature {
  index: number;
  signature: Uint8Array;
}

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

export function announcementToJson(a: KeyAnnouncement, signature: Uint8Array, cosignatures: Cosignature[] = []): Record<string, unknown> {
  const json: Record<string, unknown> = { ...signedFields(a), signature: bytesToHex(signature) };
  if (cosignatures.length > 0) json.cosignatures = cosignatures.map((c) => ({ index: c.index, signature: bytesToHex(c.signature) }));
  return json;
}

function parseCosignatures(value: unknown): Cosignature[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > 16) malformed('cosignatures must be an array of at most 16 entries');
  return value.map((entry: unknown) => {
    const e = entry as { index?: unknown; signature?: unknown };
    if (entry === null || typeof entry !== 'object' || Object.keys(entry).some((k) => k !== 'index' && k !== 'signature'))
      malformed('a cosignature is {"index","signature"}');
    if (typeof e.index !== 'number' || !Number.isInteger(e.index) || e.index < 1 || e.index > 16)
      malformed('a cosignature index must be a custodian index 1..16');
    if (typeof e.signature !== 'string' || e.signature.length !== 128) malformed('a cosignature must be 64 bytes of hex');
    try {
      return { index: e.index, signature: hexToBytes(e.signature, 'cosignature') };
    } catch (error) {
      if (error instanceof MeterveilError) malformed(error.message);
      throw error;
    }
  });
}

/**
 * The custodians whose cosignature verifies, each counted once; refuses with
 * `cosignatures-below-threshold` when fewer than the threshold do.
 */
export function checkCosignatures(a: KeyAnnouncement, cosignatures: Cosignature[], cosigners: Cosigners): number[] {
  const message = announcementMessage(a);
  const valid = new Set<number>();
  for (const { index, signature } of cosignatures) {
    const key = cosigners.keys[index - 1];
    if (key && !valid.has(index) && verifyEd25519(signature, message, key)) valid.add(index);
  }
  if (valid.size < cosigners.threshold)
    fail(
      'cosignatures-below-threshold',
      `key ${a.publicKey.keyId} is cosigned by ${valid.size} custodian(s), ${cosigners.threshold} are needed: a key announced by the provider alone could be one it holds`,
    );
  return [...valid].sort((x, y) => x - y);
}

/**
 * Parses an announcement and checks its custodians' cosignatures only (an aggregator, which does
 * not hold the provider's signing key, checks this much); returns the announced key.
 */
export function verifyCosignedAnnouncement(input: unknown, cosigners: Cosigners): KeyAnnouncement {
  const { announcement, cosignatures } = parseAnnouncement(input);
  checkCosignatures(announcement, cosignatures, cosigners);
  return announcement;
}

/**
 * Checks an announcement against the signing key and the meter's state; returns the new key and
 * its first slot. Reasons: malformed-announcement, bad-signature, cosignatures-below-threshold
 * (given cosigners: fewer than t custodians cosigned), wrong-previous-key (the announcement does
 * not follow the key in use), stale-announcement (its slot has begun or passed).
 */
export function verifyKeyAnnouncement(
  input: unknown,
  signingPublicKey: Uint8Array,
  state: { currentKeyId: string; currentSlot: number },
  cosigners?: Cosigners,
): KeyAnnouncement {
  const { announcement, signature, cosignatures } = parseAnnouncement(input);
  if (!verifyEd25519(signature, announcementMessage(announcement), signingPublicKey))
    fail('bad-signature', "the announcement is not signed by the provider's signing key");
  if (cosigners) checkCosignatures(announcement, cosignatures, cosigners);
  if (announcement.previousKeyId !== state.currentKeyId) {
    fail('wrong-previous-key', `the announcement replaces key ${announcement.previousKeyId}, the key in use is ${state.currentKeyId}`);
  }
  if (announcement.effectiveSlot <= state.currentSlot) {
    fail('stale-announcement', `slot ${announcement.effectiveSlot} has already begun (current slot ${state.currentSlot})`);
  }
  return announcement;
}

/** Reads an announcement's fields and signatures without verifying any. */
export function parseAnnouncement(input: unknown): { announcement: KeyAnnouncement; signature: Uint8Array; cosignatures: Cosignature[] } {
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
  return { announcement, signature, cosignatures: parseCosignatures(obj.cosignatures) };
}
