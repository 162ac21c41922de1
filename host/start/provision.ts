/**
 * First-run provisioning for the all-in-one deployment: the provider's Paillier key pair and
 * every party's secrets, created in the data folder if absent and never overwritten.
 */
import { existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { generateKeyPair } from '../paillier/keygen.ts';
import { PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, readPublicKeyFile, writeKeyPair } from '../paillier/key-files.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { ensureSecrets, type Secrets } from '../config/secrets.ts';

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

export async function provision(config: MeterveilConfig, bits = 2048): Promise<{ publicKey: PaillierPublicKey; secrets: Secrets; createdKeys: boolean }> {
  const { publicKey, created } = await ensureKeys(config, bits);
  return { publicKey, secrets: ensureSecrets(config), createdKeys: created };
}
