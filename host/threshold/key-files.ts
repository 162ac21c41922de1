/**
 * Threshold key files: DIR/public.json (the ordinary public key plus verification keys) and
 * DIR/share-<i>.json for custodian i (mode 0600, optionally sealed under a passphrase).
 * Nothing is ever overwritten: a second keygen into the same directory is refused before any write.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { readKeyFileText, withPath, writeNewKeyFiles } from '../paillier/key-files.ts';
import { openKeyText, sealedOrPlain } from '../keys/seal.ts';
import { keyShareFromJson, keyShareToJson, SHARE_SCHEME, thresholdPublicKeyFromJson, thresholdPublicKeyToJson } from './codec.ts';
import type { ThresholdKeySet } from './dealer.ts';
import type { KeyShare, ThresholdPublicKey } from './threshold-key.ts';

export const THRESHOLD_PUBLIC_KEY_FILE = 'public.json';
export const shareFileName = (index: number) => `share-${index}.json`;

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
  // Seal everything first: a weak passphrase is refused before any file exists.
  const shareTexts = set.shares.map((share) => shareFileText(share, passphrase));
  writeNewKeyFiles([
    ...sharePaths.map((path, i) => ({ path, text: shareTexts[i], mode: 0o600 })),
    { path: publicPath, text: JSON.stringify(thresholdPublicKeyToJson(set.publicKey), null, 2) + '\n', mode: 0o644 },
  ]);
  return { publicPath, sharePaths };
}
