/**
 * The key schedule's storage: each announced key's JSON in a value of its own, so that two
 * short-exponent keys (1.6 KB each at 2048 bits, 2.4 KB at 3072) stay within the 4,000 bytes a
 * value may hold; a record of the earlier form, with the keys inline, still loads.
 */
import test from 'ava';
import { KeySchedule } from '../../firmware/meter/key-schedule.ts';
import { publicKeyToJson } from '../../firmware/paillier/codec.ts';
import { SlotPacking } from '../../firmware/paillier/packing.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { generateSigningKey, signKeyAnnouncement } from '../../host/keys/signing.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

const packing = SlotPacking.forBounds({ maxReading: 100_000n, maxSummands: 1000, readings: 1, modulusBits: 2048 });
const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const [k0, k1, k2] = [0, 1, 2].map((i) => testKeyPair(i).publicKey);

test('two announced short-exponent keys are stored one value each, and a reboot reads them back', (t) => {
  const signer = generateSigningKey();
  const storage = new MemoryStorage();
  const schedule = new KeySchedule(storage, k0, signer.publicKey, packing, () => {});
  const announce = (key: typeof k0, previous: typeof k0, slot: number, now: number) =>
    schedule.offer(encode(signKeyAnnouncement(signer, { publicKey: key, previousKeyId: previous.keyId, effectiveSlot: slot })), now);
  announce(k1, k0, 10, 1);
  announce(k2, k1, 20, 11);
  const values = new Map(storage.entries());
  t.deepEqual([...values.keys()].sort(), ['ky.0', 'ky.1', 'ky.s']);
  for (const [, value] of values) t.true(value.length < 4000);
  const rebooted = new KeySchedule(storage, k0, signer.publicKey, packing, () => {});
  t.is(rebooted.keyFor(5).keyId, k0.keyId);
  t.is(rebooted.keyFor(15).keyId, k1.keyId);
  t.true(rebooted.keyFor(25).sameKeyAs(k2), 'n, hs and exponentBits come back');
});

test('a record of the earlier form (keys inline) still loads; a missing or swapped key entry leaves the provisioned key', (t) => {
  const storage = new MemoryStorage([['ky.s', encode({ base: k0.keyId, keys: [{ effectiveSlot: 10, publicKey: publicKeyToJson(k1) }] })]]);
  t.true(new KeySchedule(storage, k0, undefined, packing, () => {}).keyFor(12).sameKeyAs(k1));
  const logs: string[] = [];
  const damaged = new MemoryStorage([
    ['ky.s', encode({ base: k0.keyId, keys: [{ effectiveSlot: 10, keyId: k1.keyId }] })],
    ['ky.0', encode(publicKeyToJson(k2))],
  ]);
  t.is(new KeySchedule(damaged, k0, undefined, packing, (l) => logs.push(l)).keyFor(12).keyId, k0.keyId);
  t.regex(logs[0], /stored key schedule ignored: .*holds key/);
});
