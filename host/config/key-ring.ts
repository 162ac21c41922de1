/**
 * The key files of a deployment during key rotation (docs/keys.md): the public keys aggregators
 * accept and the provider's ring of private keys, read from config keys.publicKeys and
 * keys.privateKeys and checked together: distinct key ids, each able to hold the packing. A
 * wrong list stops the role at start, before it accepts or decrypts anything.
 */
import { fail, MeterveilError } from '../../firmware/errors.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { readPrivateKeyFile, readPublicKeyFile } from '../paillier/key-files.ts';
import type { PaillierPrivateKey } from '../paillier/private-key.ts';
import { slotPacking } from './packing.ts';
import type { MeterveilConfig } from './schema.ts';

function checkRing(config: MeterveilConfig, keys: PaillierPublicKey[], what: string): void {
  const ids = keys.map((k) => k.keyId);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) fail('bad-config', `${what}: key ${twice} is listed twice`);
  for (const key of keys) {
    try {
      slotPacking(config, key.bits);
    } catch (e) {
      if (e instanceof MeterveilError) fail('bad-config', `${what}: key ${key.keyId} cannot hold the packing: ${e.message}`);
      throw e;
    }
  }
}

/** The public keys whose reports the aggregators accept, in config order. */
export function readAcceptedPublicKeys(config: MeterveilConfig): PaillierPublicKey[] {
  const keys = config.keys.publicKeys.map(readPublicKeyFile);
  checkRing(config, keys, 'keys.publicKeys');
  return keys;
}

/** The provider's private keys by key id. */
export function readPrivateKeyRing(config: MeterveilConfig): Map<string, PaillierPrivateKey> {
  const keys = config.keys.privateKeys.map((path) => readPrivateKeyFile(path));
  checkRing(config, keys.map((k) => k.publicKey), 'keys.privateKeys');
  return new Map(keys.map((k) => [k.publicKey.keyId, k]));
}
