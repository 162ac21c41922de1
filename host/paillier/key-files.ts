/**
 * Key files. public.json: {"scheme","version":2,"keyId","n","hs","exponentBits"} (version 1, a
 * classic key, has no hs or exponentBits); private.json adds "p" and "q".
 * The private file is written with mode 0600 and neither file is ever overwritten.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import {
  bigIntFromHex,
  bigIntToHex,
  parseJsonObject,
  publicKeyFromJson,
  publicKeyToJson,
  readKeyHeader,
} from '../../firmware/paillier/codec.ts';
import { openKeyText, sealedOrPlain } from '../keys/seal.ts';
import type { KeyPair } from './keygen.ts';
import { createNativeArith, hostPublicKey } from './native-arith.ts';
import { PaillierPrivateKey } from './private-key.ts';
import { shortExponentAdmissible } from './short-exponent.ts';

export const PUBLIC_KEY_FILE = 'public.json';
export const PRIVATE_KEY_FILE = 'private.json';
const MAX_KEY_FILE_BYTES = 64 * 1024;

export function privateKeyToJson(key: PaillierPrivateKey) {
  return { ...publicKeyToJson(key.publicKey), p: bigIntToHex(key.p), q: bigIntToHex(key.q) };
}

export function privateKeyFromJson(input: unknown): PaillierPrivateKey {
  const obj = parseJsonObject(input, 'private key');
  const { n, keyId, shortExponent } = readKeyHeader(obj, 'private key');
  const p = bigIntFromHex(obj.p, 'private key: p');
  const q = bigIntFromHex(obj.q, 'private key: q');
  if (p * q !== n) fail('bad-private-key', 'private key: p * q does not equal n');
  if (p.toString(2).length !== q.toString(2).length) fail('bad-private-key', 'private key: p and q must have equal length');
  const publicKey = hostPublicKey(n, keyId, shortExponent);
  if (shortExponent) {
    if (!shortExponentAdmissible(p, q))
      fail('bad-private-key', 'private key: short-exponent keys need p = q = 3 mod 4 and gcd(p-1, q-1) = 2');
    // Only the factors show that hs is an n-th residue, as randomness must be: its order divides phi(n).
    if (publicKey.arith.pow(shortExponent.hs, (p - 1n) * (q - 1n)) !== 1n)
      fail('bad-private-key', 'private key: hs is not an n-th residue');
  }
  return new PaillierPrivateKey(p, q, publicKey);
}

export function readKeyFileText(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return fail('key-file-unreadable', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (text.length > MAX_KEY_FILE_BYTES) fail('malformed-key', `${path} is larger than a key file can be`);
  return text;
}

/** Names the file in any refusal raised while reading it. */
export function withPath<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof MeterveilError && !e.message.includes(path))
      throw new MeterveilError(e.reason, `${path}: ${e.message.slice(e.reason.length + 2)}`);
    throw e;
  }
}

export interface NewKeyFile {
  path: string;
  text: string;
  mode: number;
}

/** Writes key files that must not exist yet: if any does, nothing is written. */
export function writeNewKeyFiles(files: readonly NewKeyFile[]): void {
  for (const { path } of files) if (existsSync(path)) fail('key-exists', `${path} already exists; refusing to overwrite a key`);
  for (const { path, text, mode } of files) {
    try {
      writeFileSync(path, text, { flag: 'wx', mode });
    } catch (e) {
      // Another writer got there between the check and the write.
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') fail('key-exists', `${path} already exists; refusing to overwrite a key`);
      throw e;
    }
  }
}

export function readPublicKeyFile(path: string): ReturnType<typeof hostPublicKey> {
  return withPath(path, () => publicKeyFromJson(readKeyFileText(path), { arith: createNativeArith }));
}

/** A sealed private key (see host/keys/seal.ts) needs its passphrase. */
export function readPrivateKeyFile(path: string, passphrase?: string): PaillierPrivateKey {
  return withPath(path, () => privateKeyFromJson(openKeyText(readKeyFileText(path), passphrase, path)));
}

/** Writes DIR/public.json and DIR/private.json (0600, sealed when a passphrase is given); refuses if either exists. */
export function writeKeyPair(dir: string, pair: KeyPair, passphrase?: string): { publicPath: string; privatePath: string } {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const publicPath = join(dir, PUBLIC_KEY_FILE);
  const privatePath = join(dir, PRIVATE_KEY_FILE);
  const privateText = sealedOrPlain(JSON.stringify(privateKeyToJson(pair.privateKey), null, 2) + '\n', passphrase, {
    content: 'paillier',
    keyId: pair.publicKey.keyId,
  });
  writeNewKeyFiles([
    { path: privatePath, text: privateText, mode: 0o600 },
    { path: publicPath, text: JSON.stringify(publicKeyToJson(pair.publicKey), null, 2) + '\n', mode: 0o644 },
  ]);
  return { publicPath, privatePath };
}
