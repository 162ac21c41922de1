/**
 * The comb table in the ESP32's raw flash partition (firmware/platform/moddable/flash-table-storage.ts)
 * against a NOR flash in memory (test/firmware/helpers/node-flash.ts): a table built there gives the
 * reference hs^e, is found again after a reboot, a rebuild over it (another key) never writes over
 * programmed bytes, and the default comb of the nodemcu's 512 KB partition is height 8 in 2 blocks.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { CombTable } from '../../firmware/paillier/comb.ts';
import { runToEnd } from '../../firmware/paillier/steps.ts';
import { defaultTableShape } from '../../firmware/meter/randomness.ts';
import { flashTableBudget, TABLE_PARTITION_BYTES } from '../../firmware/platform/storage-budget.ts';
import type { Storage } from '../../firmware/platform/port.ts';
import { referenceModPow } from '../helpers/reference.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import * as nodeFlash from './helpers/node-flash.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const helper = join(root, 'test/firmware/helpers/node-flash.ts');

async function loadFlashTableStorage(): Promise<(name: string, slotBytes: number) => Storage | undefined> {
  const out = join(mkdtempSync(join(tmpdir(), 'meterveil-flash-')), 'flash-table-storage.mjs');
  const result = await build({
    entryPoints: [join(root, 'firmware/platform/moddable/flash-table-storage.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    // The module and this test must share the helper's partitions: the bundle imports it by path.
    plugins: [{ name: 'flash', setup: (b) => b.onResolve({ filter: /^flash$/ }, () => ({ path: helper, external: true })) }],
  });
  writeFileSync(out, result.outputFiles[0].text.replace(`from "${helper}"`, `from ${JSON.stringify(pathToFileURL(helper).href)}`));
  return ((await import(pathToFileURL(out).href)) as { flashTableStorage: never }).flashTableStorage;
}

test('the comb table in a NOR flash partition: right powers, found after a reboot, rebuilt for another key without writing over programmed bytes', async (t) => {
  const flashTableStorage = await loadFlashTableStorage();
  t.is(flashTableStorage('mvtable', 512), undefined, 'a board without the partition has no table storage');
  const partition = new Uint8Array(TABLE_PARTITION_BYTES).fill(0);
  nodeFlash.partitions.set('mvtable', partition);
  const key = testKeyPair(0).publicKey;
  const storage = flashTableStorage('mvtable', key.ciphertextBytes)!;
  const shape = defaultTableShape(storage, key.bits)!;
  t.deepEqual(shape, { height: 8, blocks: 2 }, 'the nodemcu partition holds the 510 entries of height 8, 2 blocks');
  t.deepEqual(
    shape,
    defaultTableShape(flashTableBudget(TABLE_PARTITION_BYTES, key.ciphertextBytes), key.bits),
    'the simulations size it alike',
  );

  // A partition never erased (zeros) is what a board has before its first table.
  for (let sector = 0; sector < partition.length / 4096; sector++) new nodeFlash.default('mvtable').erase(sector);
  const table = new CombTable(storage, shape);
  const job = table.build(key);
  while (!job.done) job.step(64);
  t.true(table.readyFor(key));
  const se = key.shortExponent!;
  for (const e of [1n, (1n << 1023n) + 12345n, (1n << 1024n) - 1n])
    t.is(runToEnd(table.pow(key, e)), referenceModPow(se.hs, e, key.nSquared));

  const reopened = new CombTable(flashTableStorage('mvtable', key.ciphertextBytes)!, shape);
  t.true(reopened.readyFor(key), 'a reboot finds the table in flash');

  const erasesBefore = nodeFlash.counts.erases;
  const next = testKeyPair(1).publicKey;
  const rebuild = reopened.build(next);
  while (!rebuild.done) rebuild.step(64);
  t.true(reopened.readyFor(next) && !reopened.readyFor(key));
  t.is(runToEnd(reopened.pow(next, 987654321n)), referenceModPow(next.shortExponent!.hs, 987654321n, next.nSquared));
  t.true(nodeFlash.counts.erases - erasesBefore <= 510 + 2, 'at most one erase an entry and two for the header');

  reopened.clear();
  t.false(new CombTable(flashTableStorage('mvtable', key.ciphertextBytes)!, shape).readyFor(next), 'a cleared table is gone');
  t.throws(() => storage.set('mt.ck', new Uint8Array(4)), { message: /storage-key-unknown/ });
  t.throws(() => storage.set('cb.1', new Uint8Array(513)), { message: /storage-value-too-large/ });
  t.throws(() => storage.set('cb.889', new Uint8Array(512)), { message: /storage-full/ }, '127 sectors of 7 entries');
});
