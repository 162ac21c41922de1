/**
 * Writes the 2048-bit keys that tests load instead of generating their own: threshold key sets
 * (safe primes take seconds each) and ordinary Paillier key pairs. They are published with the
 * source, so they protect nothing; the file names say so and no command reads them.
 *
 * Usage: node --import tsx tools/vectors/test-keys.ts [--new-threshold-sets]
 * Key pairs are generated afresh (a second each); the committed threshold sets are kept unless
 * --new-threshold-sets is given (safe primes take minutes), and a set without a short-exponent
 * base gets one: hs needs only n.
 * Tests that need distinct keys take distinct entries: the counts below are the most any one test
 * file uses at once (three threshold sets for a two-step rotation, three pairs for a meter rotation
 * besides the pipeline harness's own).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateKeyPair } from '../../host/paillier/keygen.ts';
import { privateKeyToJson } from '../../host/paillier/key-files.ts';
import { shortExponentBase } from '../../host/paillier/short-exponent.ts';
import { thresholdPublicKeyFromJson, thresholdPublicKeyToJson } from '../../host/threshold/codec.ts';
import { generateThresholdKey } from '../../host/threshold/dealer.ts';
import { bigIntToHex } from '../../firmware/paillier/codec.ts';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { ThresholdPublicKey } from '../../host/threshold/threshold-key.ts';

const BITS = 2048;
const THRESHOLD_SETS = [
  { threshold: 2, custodians: 3, count: 3 },
  { threshold: 3, custodians: 3, count: 1 },
  { threshold: 3, custodians: 5, count: 1 },
];
const KEY_PAIRS = 4;
const WARNING = 'Test-only keys, public with the source: they protect nothing. Never deploy them.';

const vectorPath = (name: string) => fileURLToPath(new URL(`../../test/vectors/${name}`, import.meta.url));
const write = (name: string, body: object) => writeFileSync(vectorPath(name), JSON.stringify(body, null, 2) + '\n');

const nodeRandom = (length: number) => new Uint8Array(randomBytes(length));

function withShortExponent(key: ThresholdPublicKey): ThresholdPublicKey {
  if (key.paillier.shortExponent) return key;
  const paillier = new PaillierPublicKey(key.paillier.n, { shortExponent: shortExponentBase(key.paillier.n, nodeRandom) });
  return new ThresholdPublicKey(paillier, key.threshold, key.custodians, key.v, key.verificationKeys);
}

type SetJson = { publicKey: unknown; shares: string[] };
const thresholdSets: SetJson[] = [];
if (process.argv.includes('--new-threshold-sets')) {
  for (const { threshold, custodians, count } of THRESHOLD_SETS) {
    for (let i = 0; i < count; i++) {
      const { publicKey, shares } = await generateThresholdKey({ bits: BITS, threshold, custodians });
      thresholdSets.push({ publicKey: thresholdPublicKeyToJson(publicKey), shares: shares.map((s) => bigIntToHex(s.share)) });
    }
  }
} else {
  for (const set of JSON.parse(readFileSync(vectorPath('threshold-keys.test-only.json'), 'utf8')).sets as SetJson[]) {
    thresholdSets.push({ publicKey: thresholdPublicKeyToJson(withShortExponent(thresholdPublicKeyFromJson(set.publicKey))), shares: set.shares });
  }
}
write('threshold-keys.test-only.json', { warning: WARNING, bits: BITS, sets: thresholdSets });

const pairs = [];
for (let i = 0; i < KEY_PAIRS; i++) pairs.push(privateKeyToJson((await generateKeyPair(BITS)).privateKey));
write('paillier-keys.test-only.json', { warning: WARNING, bits: BITS, pairs });
