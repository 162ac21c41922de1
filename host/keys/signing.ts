/**
 * The provider's Ed25519 signing key (node:crypto), which signs key rotation announcements
 * (firmware/keys/announcement.ts). Files: signing.json (mode 0600, optionally sealed):
 * {"scheme":"meterveil-signing-key","version":1,"keyId","publicKey","seed"}; signing-public.json:
 * {"scheme":"meterveil-signing-public","version":1,"keyId","publicKey"}, which provisioning gives
 * to every meter. keyId names the signing key: the first 8 bytes of SHA-256 of its public key.
 */
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { fail } from '../../firmware/errors.ts';
import { announcementMessage, announcementToJson, type KeyAnnouncement } from '../../firmware/keys/announcement.ts';
import { parseJsonObject } from '../../firmware/paillier/codec.ts';
import { readKeyFileText, writeNewKeyFiles } from '../paillier/key-files.ts';
import { openKeyText, sealedOrPlain } from './seal.ts';

export const SIGNING_KEY_SCHEME = 'meterveil-signing-key';
export const SIGNING_PUBLIC_SCHEME = 'meterveil-signing-public';

export interface SigningKey {
  keyId: string;
  publicKey: Uint8Array;
  privateKey: KeyObject;
  seed: Uint8Array;
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

export function signingKeyId(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}

function fromSeed(seed: Uint8Array, publicKey: Uint8Array): SigningKey {
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: base64url(seed), x: base64url(publicKey) }, format: 'jwk' });
  return { keyId: signingKeyId(publicKey), publicKey, privateKey, seed };
}

export function generateSigningKey(): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' });
  return fromSeed(new Uint8Array(Buffer.from(jwk.d!, 'base64url')), new Uint8Array(Buffer.from(jwk.x!, 'base64url')));
}

export function signKeyAnnouncement(key: SigningKey, announcement: KeyAnnouncement): Record<string, unknown> {
  return announcementToJson(announcement, new Uint8Array(sign(null, announcementMessage(announcement), key.privateKey)));
}

export function writeSigningKey(dir: string, key: SigningKey, passphrase?: string): { privatePath: string; publicPath: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const privatePath = join(dir, 'signing.json');
  const publicPath = join(dir, 'signing-public.json');
  const body = {
    scheme: SIGNING_KEY_SCHEME,
    version: 1,
    keyId: key.keyId,
    publicKey: bytesToHex(key.publicKey),
    seed: bytesToHex(key.seed),
  };
  writeNewKeyFiles([
    {
      path: privatePath,
      text: sealedOrPlain(JSON.stringify(body, null, 2) + '\n', passphrase, { content: SIGNING_KEY_SCHEME, keyId: key.keyId }),
      mode: 0o600,
    },
    {
      path: publicPath,
      text:
        JSON.stringify({ scheme: SIGNING_PUBLIC_SCHEME, version: 1, keyId: key.keyId, publicKey: bytesToHex(key.publicKey) }, null, 2) +
        '\n',
      mode: 0o644,
    },
  ]);
  return { privatePath, publicPath };
}

export function readSigningKeyFile(path: string, passphrase?: string): SigningKey {
  const obj = parseJsonObject(openKeyText(readKeyFileText(path), passphrase, path), path);
  if (obj.scheme !== SIGNING_KEY_SCHEME || obj.version !== 1) fail('unsupported-key', `${path}: not a version 1 signing key`);
  const publicKey = hexToBytes(obj.publicKey as string, 'signing public key');
  const seed = hexToBytes(obj.seed as string, 'signing key seed');
  if (publicKey.length !== 32 || seed.length !== 32) fail('malformed-key', `${path}: publicKey and seed must be 32 bytes`);
  const key = fromSeed(seed, publicKey);
  if (key.keyId !== obj.keyId) fail('key-id-mismatch', `${path}: keyId does not match the public key`);
  return key;
}

/** The signing public key as meters hold it (32 bytes). */
export function readSigningPublicFile(path: string): Uint8Array {
  const obj = parseJsonObject(readKeyFileText(path), path);
  if (obj.scheme !== SIGNING_PUBLIC_SCHEME || obj.version !== 1) fail('unsupported-key', `${path}: not a version 1 signing public key`);
  const publicKey = hexToBytes(obj.publicKey as string, 'signing public key');
  if (publicKey.length !== 32 || signingKeyId(publicKey) !== obj.keyId)
    fail('malformed-key', `${path}: publicKey must be 32 bytes matching keyId`);
  return publicKey;
}
