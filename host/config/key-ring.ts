/**
 * The key files of a deployment during key rotation (docs/keys.md): the public keys aggregators
 * accept and the provider's ring, read from config keys.publicKeys and keys.privateKeys (single
 * mode) or provider.decryption.publicKeys (threshold mode), and checked together: distinct key
 * ids, each able to hold the packing, threshold keys all of the configured t of n. A wrong list
 * stops the role at start, before it accepts or decrypts anything.
 */
import { fail, MeterveilError } from '../../firmware/errors.ts';
import type { Cosigners } from '../../firmware/keys/announcement.ts';
import { readSigningPublicFile } from '../keys/signing.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { readPrivateKeyFile, readPublicKeyFile } from '../paillier/key-files.ts';
import type { PaillierPrivateKey } from '../paillier/private-key.ts';
import { slotPackingFor } from '../../firmware/config/packing.ts';
import { readThresholdPublicKeyFile } from '../threshold/key-files.ts';
import type { ThresholdPublicKey } from '../threshold/threshold-key.ts';
import type { MeterveilConfig } from './schema.ts';

function checkRing(config: MeterveilConfig, keys: PaillierPublicKey[], what: string): void {
  const ids = keys.map((k) => k.keyId);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) fail('bad-config', `${what}: key ${twice} is listed twice`);
  for (const key of keys) {
    try {
      slotPackingFor(config.slotSeconds, config.packing, key.bits);
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
  checkRing(
    config,
    keys.map((k) => k.publicKey),
    'keys.privateKeys',
  );
  return new Map(keys.map((k) => [k.publicKey.keyId, k]));
}

/** Threshold mode: the provider's ring of threshold public keys, old keys first. */
export function readThresholdKeyRing(config: MeterveilConfig): ThresholdPublicKey[] {
  const d = config.provider.decryption;
  if (d.mode !== 'threshold') fail('bad-config', 'provider.decryption.mode is not "threshold"');
  const keys = d.publicKeys.map(readThresholdPublicKeyFile);
  checkRing(
    config,
    keys.map((k) => k.paillier),
    'provider.decryption.publicKeys',
  );
  keys.forEach((key, i) => {
    if (key.threshold !== d.threshold || key.custodians !== d.custodians) {
      fail(
        'bad-config',
        `provider.decryption says ${d.threshold} of ${d.custodians} custodians, but ${d.publicKeys[i]} is a ${key.threshold} of ${key.custodians} key`,
      );
    }
  });
  return keys;
}

/**
 * Threshold mode with provider.decryption.cosigners: the custodians whose cosignatures a key
 * announcement needs (t of them) before aggregators count reports under the announced key.
 */
export function readCosigners(config: MeterveilConfig): Cosigners | undefined {
  const d = config.provider.decryption;
  if (d.mode !== 'threshold' || d.cosigners === undefined) return undefined;
  return { threshold: d.threshold, keys: d.cosigners.map(readSigningPublicFile) };
}
