/**
 * The key files each role's provisioned config lists, copied into its data folder
 * (data/keys/ring/<keyId>.public.json, <keyId>.private.json) so that the role runs through a key
 * rotation as the operator's config describes it:
 *   aggregators:  keys.publicKeys (every key whose reports they accept);
 *   provider:     keys.publicKeys, and its ring: keys.privateKeys in single mode (copied byte for
 *                 byte, mode 0600, so a sealed key stays sealed) or provider.decryption.publicKeys
 *                 in threshold mode;
 *   custodians:   provider.decryption.publicKeys (their shares are handed over separately);
 *   aggregators, provider: provider.decryption.cosigners, the custodians' signing-public files
 *                 (data/keys/cosigners/custodian-<i>.signing-public.json), when the config names them.
 * Every list is read and checked as the roles will read it (distinct key ids, packing, t of n).
 */
import { fail } from '../../firmware/errors.ts';
import { parseJsonObject } from '../../firmware/paillier/codec.ts';
import { readAcceptedPublicKeys, readCosigners, readThresholdKeyRing } from '../config/key-ring.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { readKeyFileText } from '../paillier/key-files.ts';

export interface KeyFile {
  /** Path inside the role's data folder, as its config names it. */
  path: string;
  text: string;
  secret: boolean;
}

export interface RoleKeyLists {
  files: KeyFile[];
  /** keys.publicKeys of the aggregators' and the provider's configs. */
  publicKeys: string[];
  /** Single mode: keys.privateKeys of the provider's config. */
  privateKeys?: string[];
  /** Threshold mode: provider.decryption.publicKeys of the provider's and custodians' configs. */
  thresholdKeys?: string[];
  /** Threshold mode: provider.decryption.cosigners, custodian i's signing-public file at [i - 1]. */
  cosigners?: string[];
}

const ringPath = (keyId: string, kind: 'public' | 'private') => `keys/ring/${keyId}.${kind}.json`;

function keyIdOf(text: string, path: string): string {
  const keyId = parseJsonObject(text, path).keyId;
  if (typeof keyId !== 'string' || !/^[0-9a-f]{16}$/.test(keyId))
    fail('malformed-key', `${path}: keyId must be 16 lowercase hex characters`);
  return keyId;
}

export function roleKeyLists(config: MeterveilConfig): RoleKeyLists {
  const files = new Map<string, KeyFile>();
  const add = (source: string, kind: 'public' | 'private'): string => {
    const text = readKeyFileText(source);
    const path = ringPath(keyIdOf(text, source), kind);
    // A threshold key read first keeps its verification keys when keys.publicKeys names the same key.
    if (!files.has(path)) files.set(path, { path, text, secret: kind === 'private' });
    return path;
  };
  const d = config.provider.decryption;
  let thresholdKeys: string[] | undefined;
  let privateKeys: string[] | undefined;
  if (d.mode === 'threshold') {
    readThresholdKeyRing(config);
    thresholdKeys = d.publicKeys.map((source) => add(source, 'public'));
  } else {
    if (parseJsonObject(readKeyFileText(config.keys.publicKey), config.keys.publicKey).threshold !== undefined) {
      fail(
        'bad-config',
        `${config.keys.publicKey} is a threshold key, but provider.decryption.mode is "single": set it to "threshold" with the number of custodians`,
      );
    }
    privateKeys = config.keys.privateKeys.map((source) => add(source, 'private'));
  }
  readAcceptedPublicKeys(config);
  const publicKeys = config.keys.publicKeys.map((source) => add(source, 'public'));
  let cosigners: string[] | undefined;
  if (d.mode === 'threshold' && d.cosigners) {
    readCosigners(config);
    cosigners = d.cosigners.map((source, i) => {
      const path = `keys/cosigners/custodian-${i + 1}.signing-public.json`;
      files.set(path, { path, text: readKeyFileText(source), secret: false });
      return path;
    });
  }
  return { files: [...files.values()], publicKeys, privateKeys, thresholdKeys, cosigners };
}
