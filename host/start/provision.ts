/**
 * First-run provisioning for the all-in-one deployment: the provider's Paillier key pair (or, in
 * threshold mode, the threshold public key and one share per custodian) and every party's
 * secrets, created in the data folder if absent and never overwritten.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { generateKeyPair } from '../paillier/keygen.ts';
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, readPublicKeyFile, writeKeyPair } from '../paillier/key-files.ts';
import type { DecryptionConfig, MeterveilConfig } from '../config/schema.ts';
import { ensureSecrets, type Secrets } from '../config/secrets.ts';
import { generateThresholdKey } from '../threshold/dealer.ts';
import { readThresholdPublicKeyFile, shareFileName, THRESHOLD_PUBLIC_KEY_FILE, writeThresholdKeySet } from '../threshold/key-files.ts';

type ThresholdDecryption = Extract<DecryptionConfig, { mode: 'threshold' }>;

/** Where `meterveil start` keeps custodian i's share: beside the threshold public key. */
export function demoSharePath(d: ThresholdDecryption, index: number): string {
  return join(dirname(d.publicKey), shareFileName(index));
}

/**
 * Threshold mode: the dealer's key set (keygen --threshold T --custodians N) on first run. The
 * meters and aggregators read keys.publicKey, so it must be the threshold public key itself.
 */
export async function ensureThresholdKeys(
  config: MeterveilConfig,
  d: ThresholdDecryption,
  bits = 2048,
): Promise<{ publicKey: PaillierPublicKey; created: boolean }> {
  if (d.publicKey !== config.keys.publicKey)
    fail(
      'bad-config',
      'for "meterveil start", provider.decryption.publicKey must be keys.publicKey (meters, aggregators and custodians share one key)',
    );
  const sharePaths = Array.from({ length: d.custodians }, (_, i) => demoSharePath(d, i + 1));
  const present = [d.publicKey, ...sharePaths].filter((path) => existsSync(path));
  if (present.length === sharePaths.length + 1) {
    const key = readThresholdPublicKeyFile(d.publicKey);
    if (key.threshold !== d.threshold || key.custodians !== d.custodians) {
      fail(
        'bad-config',
        `${d.publicKey} is a ${key.threshold} of ${key.custodians} key, the config asks for ${d.threshold} of ${d.custodians}`,
      );
    }
    return { publicKey: key.paillier, created: false };
  }
  if (present.length > 0)
    fail('key-missing', `${present.join(', ')} exist(s) but not the whole threshold key set; refusing to generate a new one over it`);
  if (basename(d.publicKey) !== THRESHOLD_PUBLIC_KEY_FILE)
    fail('key-missing', `no threshold key at ${d.publicKey}; generate one with "meterveil keygen --threshold" or use the default paths`);
  const set = await generateThresholdKey({ bits, threshold: d.threshold, custodians: d.custodians });
  writeThresholdKeySet(dirname(d.publicKey), set);
  return { publicKey: set.publicKey.paillier, created: true };
}

export async function ensureKeys(config: MeterveilConfig, bits = 2048): Promise<{ publicKey: PaillierPublicKey; created: boolean }> {
  const { publicKey, privateKey } = config.keys;
  const havePublic = existsSync(publicKey);
  const havePrivate = existsSync(privateKey);
  if (havePublic && havePrivate) return { publicKey: readPublicKeyFile(publicKey), created: false };
  if (havePublic || havePrivate) fail('key-missing', `only one of ${publicKey} and ${privateKey} exists; refusing to generate a new pair`);
  if (dirname(publicKey) !== dirname(privateKey) || basename(publicKey) !== PUBLIC_KEY_FILE || basename(privateKey) !== PRIVATE_KEY_FILE) {
    fail('key-missing', `no key pair at ${publicKey}; generate one with "meterveil keygen" or use the default paths`);
  }
  const pair = await generateKeyPair(bits);
  writeKeyPair(dirname(publicKey), pair);
  return { publicKey: pair.publicKey, created: true };
}

export async function provision(
  config: MeterveilConfig,
  bits = 2048,
): Promise<{ publicKey: PaillierPublicKey; secrets: Secrets; createdKeys: boolean }> {
  const d = config.provider.decryption;
  const { publicKey, created } = d.mode === 'threshold' ? await ensureThresholdKeys(config, d, bits) : await ensureKeys(config, bits);
  return { publicKey, secrets: ensureSecrets(config), createdKeys: created };
}
