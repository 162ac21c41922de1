/**
 * The fixed-base comb table and the step-wise exponentiations, in the real XS engine and in Node
 * through the same command (tools/xs/core-ops.ts): every shape's hs^e equals the reference power,
 * every step stays within its budget, and the table lives in the storage, entry by entry.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { CombTable, combProducts, combStorageBytes } from '../../firmware/paillier/comb.ts';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { usableBytes, DEVICE_PARTITION_BYTES } from '../../firmware/platform/storage-budget.ts';
import { defaultCombShape } from '../../firmware/meter/randomness.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { bundle, startXsWorker, type XsWorker } from '../../host/xs/harness.ts';
import { runCoreCommand, type CoreCommand } from '../../tools/xs/core-ops.ts';
import { hexToBig, katKeys } from '../helpers/kat.ts';
import { referenceModPow } from '../helpers/reference.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

let xs: XsWorker;
test.before(async () => {
  xs = await startXsWorker({ bundle: await bundle(new URL('../../tools/xs/core-entry.ts', import.meta.url).pathname) });
});
test.after.always(async () => {
  await xs?.close();
});

const hex = (v: bigint) => v.toString(16);
const exponent = (bits: number) =>
  BigInt('0x' + randomBytes(Math.ceil(bits / 8)).toString('hex')) >> BigInt(8 * Math.ceil(bits / 8) - bits);

async function inBoth(t: import('ava').ExecutionContext, command: CoreCommand) {
  const node = runCoreCommand(command);
  const inXs = await xs.issue(command);
  t.deepEqual(inXs, node, 'XS and Node agree');
  if (!('ok' in node)) throw new Error(`refused: ${node.error}`);
  return node.ok as { buildSteps: number; ready: boolean; comb: string[]; window: string[] };
}

test('2048-bit key: comb shapes and windowed powers in steps of 50 products equal the reference hs^e, in XS and Node', async (t) => {
  const { n, shortExponent } = testKeyPair(0).publicKey;
  const { hs } = shortExponent!;
  const exponents = [0n, 1n, (1n << 1024n) - 1n, 1n << 1023n, exponent(1024), exponent(1024)];
  const expected = exponents.map((e) => hex(referenceModPow(hs, e, n * n)));
  for (const [height, blocks] of [
    [3, 1],
    [4, 2],
    [5, 3],
  ]) {
    const result = await inBoth(t, { op: 'comb', n: hex(n), hs: hex(hs), height, blocks, step: 50, exponents: exponents.map(hex) });
    t.true(result.ready);
    t.deepEqual(result.comb, expected, `comb ${height}x${blocks}`);
    t.deepEqual(result.window, expected, 'windowed');
    t.true(result.buildSteps >= 10, 'the build took many bounded steps');
  }
});

test('small keys (fast): every height and block count, odd exponent lengths', async (t) => {
  const kat = katKeys.find((k) => k.bits === 128)!;
  const n = hexToBig(kat.n);
  const hs = hexToBig(kat.shortExponent.hs);
  const exponents = Array.from({ length: 6 }, () => exponent(kat.shortExponent.exponentBits));
  const expected = exponents.map((e) => hex(referenceModPow(hs, e, n * n)));
  for (let height = 1; height <= 8; height++) {
    for (const blocks of [1, 2, 3, 7]) {
      for (const arith of ['base-root', 'plain'] as const) {
        const command: CoreCommand = { op: 'comb', n: kat.n, hs: hex(hs), height, blocks, step: 3, exponents: exponents.map(hex), arith };
        const node = runCoreCommand(command);
        t.deepEqual((node as { ok: { comb: string[] } }).ok.comb, expected, `${height}x${blocks} ${arith}`);
      }
    }
  }
});

test('the table is in the storage, one entry per key, and a table for another key or base is not used', (t) => {
  const { publicKey } = testKeyPair(0);
  const storage = new MemoryStorage([], () => {}, 1 << 20);
  const table = new CombTable(storage, { height: 3, blocks: 1 });
  const build = table.build(publicKey);
  t.false(table.readyFor(publicKey));
  t.throws(() => table.pow(publicKey, 5n), { instanceOf: MeterveilError, message: /comb-not-ready/ });
  while (!build.done) build.step(64);
  t.true(table.readyFor(publicKey));
  t.is(storage.entries().filter(([k]) => k.startsWith('cb.') && k !== 'cb.h').length, 7);
  t.true(storage.entries().every(([k, v]) => k === 'cb.h' || v.length === 512));
  t.true(storage.usedBytes <= combStorageBytes(2048, 1024, { height: 3, blocks: 1 }), 'combStorageBytes bounds what the storage counts');
  const reopened = new CombTable(storage, { height: 3, blocks: 1 });
  t.true(reopened.readyFor(publicKey), 'a reboot finds the table');
  t.false(new CombTable(storage, { height: 4, blocks: 1 }).readyFor(publicKey), 'another shape is rebuilt');
  const other = new PaillierPublicKey(publicKey.n, { shortExponent: { hs: publicKey.shortExponent!.hs + 2n, exponentBits: 1024 } });
  t.false(reopened.readyFor(other), 'the same n with another base');
  t.false(reopened.readyFor(testKeyPair(1).publicKey));
  const job = reopened.pow(publicKey, exponent(1024));
  job.step(10);
  reopened.build(testKeyPair(1).publicKey);
  t.throws(() => job.step(1000), { instanceOf: MeterveilError, message: /comb-not-ready/ }, 'a replaced table stops its users');
});

test('the default comb follows the storage: height 3 in the ESP32 default 24 KB NVS at 2048 bits, more with a bigger partition', (t) => {
  const nvs = usableBytes(DEVICE_PARTITION_BYTES);
  t.deepEqual(defaultCombShape(nvs, 2048), { height: 3, blocks: 1 });
  t.deepEqual(defaultCombShape(usableBytes(0x10000), 2048), { height: 5, blocks: 2 });
  t.deepEqual(defaultCombShape(usableBytes(0x20000), 2048), { height: 6, blocks: 2 });
  t.is(defaultCombShape(8192, 2048), undefined);
  t.is(combProducts(1024, { height: 3, blocks: 1 }), 341 + 342);
  t.is(combProducts(1024, { height: 5, blocks: 3 }), 68 + 205);
});
