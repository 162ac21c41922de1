/**
 * Writes the 2048-bit keys that tests load instead of generating their own: threshold key sets
 * (safe primes take seconds each) and ordinary Paillier key pairs. They are published with the
 * source, so they protect nothing; the file names say so and no command reads them.
 *
 * Usage: node --import tsx tools/vectors/test-keys.ts
 * Tests that need distinct keys take distinct entries: the counts below are the most any one test
 * file uses at once (three threshold sets for a two-step rotation, three pairs for a meter rotation
 * besides the pipeline harness's own).
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { generateKeyPair } from '../../host/paillier/keygen.ts';
import { privateKeyToJson } from '../../host/paillier/key-files.ts';
import { thresholdPublicKeyToJson } from '../../host/threshold/codec.ts';
import { generateThresholdKey } from '../../host/threshold/dealer.ts';
import { bigIntToHex } from '../../firmware/paillier/codec.ts';

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

const thresholdSets = [];
for (const { threshold, custodians, count } of THRESHOLD_SETS) {
  for (let i = 0; i < count; i++) {
    const { publicKey, shares } = await generateThresholdKey({ bits: BITS, threshold, custodians });
    thresholdSets.push({ publicKey: thresholdPublicKeyToJson(publicKey), shares: shares.map((s) => bigIntToHex(s.share)) });
  }
}
write('threshold-keys.test-only.json', { warning: WARNING, bits: BITS, sets: thresholdSets });

const pairs = [];
for (let i = 0; i < KEY_PAIRS; i++) pairs.push(privateKeyToJson((await generateKeyPair(BITS)).privateKey));
write('paillier-keys.test-only.json', { warning: WARNING, bits: BITS, pairs });
