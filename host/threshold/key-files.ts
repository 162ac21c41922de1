/**
 * Threshold key files: DIR/public.json (the ordinary public key plus verification keys) and
 * DIR/share-<i>.json for custodian i (mode 0600, optionally sealed under a passphrase).
 * Nothing is ever overwritten: a second keygen into the same directory is refused before any write.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import { readKeyFileText } from '../paillier/key-files.ts';
import { openKeyText, sealedOrPlain } from '../keys/seal.ts';
import { keyShareFromJson, keyShareToJson, SHARE_SCHEME, thresholdPublicKeyFromJson, thresholdPublicKeyToJson } from './codec.ts';
import type { ThresholdKeySet } from './dealer.ts';
import type { KeyShare, ThresholdPublicKey } from './threshold-key.ts';

export const THRESHOLD_PUBLIC_KEY_FILE = 'public.json';
export const shareFileName = (index: number) => `share-${index}.json`;

function withPath<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof MeterveilError && !e.message.includes(path)) throw new MeterveilError(e.reason, `${path}: ${e.message.slice(e.reason.length + 2)}`);
    throw e;
  }
}

export function readThresholdPublicKeyFile(path: string): ThresholdPublicKey {
  return withPath(path, () => thresholdPublicKeyFromJson(readKeyFileText(path)));
}

export function readKeyShareFile(path: string, passphrase?: string): KeyShare {
  return withPath(path, () => keyShareFromJson(openKeyText(readKeyFileText(path), passphrase, path)));
}

export function shareFileText(share: KeyShare, passphrase?: string): string {
  const text = JSON.stringify(keyShareToJson(share), null, 2) + '\n';
  return sealedOrPlain(text, passphrase, { content: SHARE_SCHEME, keyId: share.publicKey.keyId, index: share.index });
}

export interface ThresholdKeyPaths {
  publicPath: string;
  sharePaths: string[];
}

export function writeThresholdKeySet(dir: string, set: ThresholdKeySet, passphrase?: string): ThresholdKeyPaths {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const publicPath = join(dir, THRESHOLD_PUBLIC_KEY_FILE);
  const sharePaths = set.shares.map((share) => join(dir, shareFileName(share.index)));
  for (const path of [publicPath, ...sharePaths]) {
    if (existsSync(path)) fail('key-exists', `${path} already exists; refusing to overwrite a key`);
  }
  // Seal everything first: a weak passphrase is refused before any file exists.
  const shareTexts = set.shares.map((share) => shareFileText(share, passphrase));
  const write = (path: string, text: string, mode: number) => {
    try {
      writeFileSync(path, text, { flag: 'wx', mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') fail('key-exists', `${path} already exists; refusing to overwrite a key`);
      throw e;
    }
  };
  sharePaths.forEach((path, i) => write(path, shareTexts[i], 0o600));
  write(publicPath, JSON.stringify(thresholdPublicKeyToJson(set.publicKey), null, 2) + '\n', 0o644);
  return { publicPath, sharePaths };
}
