/**
 * JSON forms of threshold keys, shares and partial decryptions. The public key is the ordinary
 * Paillier public.json with one extra "threshold" member, which publicKeyFromJson ignores: meters
 * and aggregators read it unchanged.
 */
import { fail } from '../../firmware/errors.ts';
import {
  bigIntFromHex,
  bigIntToHex,
  parseJsonObject,
  publicKeyFromJson,
  publicKeyToJson,
  type PublicKeyJson,
} from '../../firmware/paillier/codec.ts';
import type { PartialDecryption } from './partial.ts';
import { ThresholdPublicKey, type KeyShare } from './threshold-key.ts';

export const SHARE_SCHEME = 'paillier-threshold-share';
export const PARTIAL_SCHEME = 'paillier-threshold-partial';
const VERSION = 1;

export interface ThresholdPublicKeyJson extends PublicKeyJson {
  threshold: { t: number; n: number; v: string; vi: string[] };
}

export interface KeyShareJson {
  scheme: typeof SHARE_SCHEME;
  version: 1;
  keyId: string;
  index: number;
  t: number;
  n: number;
  share: string;
  publicKey: ThresholdPublicKeyJson;
}

export interface PartialDecryptionJson {
  scheme: typeof PARTIAL_SCHEME;
  version: 1;
  keyId: string;
  index: number;
  value: string;
  challenge: string;
  response: string;
}

function checkHeader(obj: Record<string, unknown>, scheme: string, what: string): void {
  if (obj.scheme !== scheme) fail('unsupported-key', `${what}: scheme must be "${scheme}"`);
  if (obj.version !== VERSION) fail('unsupported-key', `${what}: version must be ${VERSION}`);
}

function integerField(obj: Record<string, unknown>, field: string, what: string): number {
  const value = obj[field];
  if (typeof value !== 'number' || !Number.isInteger(value)) fail('malformed-key', `${what}: ${field} must be an integer`);
  return value;
}

export function thresholdPublicKeyToJson(key: ThresholdPublicKey): ThresholdPublicKeyJson {
  return {
    ...publicKeyToJson(key.paillier),
    threshold: { t: key.threshold, n: key.custodians, v: bigIntToHex(key.v), vi: key.verificationKeys.map(bigIntToHex) },
  };
}

export function thresholdPublicKeyFromJson(input: unknown): ThresholdPublicKey {
  const obj = parseJsonObject(input, 'threshold public key');
  const paillier = publicKeyFromJson(obj);
  const threshold = obj.threshold;
  if (threshold === null || typeof threshold !== 'object' || Array.isArray(threshold)) {
    fail('not-threshold-key', 'public key has no "threshold" member: it is a single-key public key');
  }
  const t = threshold as Record<string, unknown>;
  const what = 'threshold public key';
  if (!Array.isArray(t.vi)) fail('malformed-key', `${what}: threshold.vi must be an array`);
  return new ThresholdPublicKey(
    paillier,
    integerField(t, 't', what),
    integerField(t, 'n', what),
    bigIntFromHex(t.v, `${what}: threshold.v`),
    (t.vi as unknown[]).map((hex, i) => bigIntFromHex(hex, `${what}: threshold.vi[${i}]`)),
  );
}

export function keyShareToJson(share: KeyShare): KeyShareJson {
  const key = share.publicKey;
  return {
    scheme: SHARE_SCHEME,
    version: VERSION,
    keyId: key.keyId,
    index: share.index,
    t: key.threshold,
    n: key.custodians,
    share: bigIntToHex(share.share),
    publicKey: thresholdPublicKeyToJson(key),
  };
}

export function keyShareFromJson(input: unknown): KeyShare {
  const what = 'key share';
  const obj = parseJsonObject(input, what);
  checkHeader(obj, SHARE_SCHEME, what);
  const publicKey = thresholdPublicKeyFromJson(obj.publicKey);
  if (obj.keyId !== publicKey.keyId) fail('key-id-mismatch', `${what}: keyId does not match its public key`);
  if (obj.t !== publicKey.threshold || obj.n !== publicKey.custodians)
    fail('malformed-key', `${what}: t and n do not match its public key`);
  const index = integerField(obj, 'index', what);
  publicKey.verificationKey(index);
  return { publicKey, index, share: bigIntFromHex(obj.share, `${what}: share`) };
}

export function partialToJson(partial: PartialDecryption): PartialDecryptionJson {
  return {
    scheme: PARTIAL_SCHEME,
    version: VERSION,
    keyId: partial.keyId,
    index: partial.index,
    value: bigIntToHex(partial.value),
    challenge: bigIntToHex(partial.proof.challenge),
    response: bigIntToHex(partial.proof.response),
  };
}

/** Structure only; whether the partial is correct is for verifyPartial to say. */
export function partialFromJson(input: unknown): PartialDecryption {
  const what = 'partial decryption';
  const obj = parseJsonObject(input, what);
  checkHeader(obj, PARTIAL_SCHEME, what);
  if (typeof obj.keyId !== 'string' || !/^[0-9a-f]{16}$/.test(obj.keyId))
    fail('malformed-key', `${what}: keyId must be 16 lowercase hex characters`);
  return {
    keyId: obj.keyId,
    index: integerField(obj, 'index', what),
    value: bigIntFromHex(obj.value, `${what}: value`),
    proof: { challenge: bigIntFromHex(obj.challenge, `${what}: challenge`), response: bigIntFromHex(obj.response, `${what}: response`) },
  };
}
