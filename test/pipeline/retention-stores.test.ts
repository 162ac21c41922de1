/**
 * Collection on the files themselves (real SQLite files, no broker): what the aggregator never
 * forgets (open and unconfirmed slots), the suppression counts that outlive their rows, and the
 * custodian's horizon: its record of what it helped decrypt goes once the slot is past the
 * horizon, and a request for such a slot is refused `beyond-horizon` before anything is
 * decrypted, while one inside the horizon is still answered from the record; the provider's
 * optional downsampling into coarse slots. The custodian's key
 * is the committed 2048-bit (2,3) fixture; no partial decryption is computed.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { aggregatorCollection } from '../../host/aggregator/retention.ts';
import { AggregatorStore } from '../../host/aggregator/store.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { Custodian } from '../../host/custodian/custodian.ts';
import { custodianCollection } from '../../host/custodian/retention.ts';
import { CustodianStore } from '../../host/custodian/store.ts';
import { encodeRequest } from '../../host/decryption/messages.ts';
import { COLLECTION_MARGIN_SECONDS } from '../../host/policy/horizon.ts';
import { aggregateHash, type Aggregate } from '../../host/protocol/aggregate.ts';
import { coarseRange } from '../../host/provider/downsample.ts';
import { providerCollection } from '../../host/provider/retention.ts';
import { ProviderStore } from '../../host/provider/store.ts';
import { slotEndMs } from '../../host/protocol/slots.ts';
import { Collector } from '../../host/store/collector.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';

const KEY = '0123456789abcdef';

function setup(t: { teardown: (fn: () => void) => void }, extra: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-retention-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(
    {
      slotSeconds: 10,
      latenessSeconds: 5,
      // The outage bound at the lateness: the acceptance horizon is 5 s.
      outageSeconds: 5,
      skewSeconds: 1,
      retention: { horizonSeconds: 60, batchRows: 3 },
      groups: [{ id: 'g', members: ['m1', 'm2', 'm3'], feeder: 'f', k: 2 }],
      ...extra,
    },
    (p) => resolve(dir, p),
  );
  return { dir, config };
}

test('the aggregator collects closed slots past the acceptance horizon, keeps open and unconfirmed ones at any age, and its suppression counts survive', async (t) => {
  const { dir, config } = setup(t);
  const store = new AggregatorStore(join(dir, 'a.sqlite'), { groupId: 'g' });
  t.teardown(() => store.close());
  const product = new Uint8Array([1]);
  for (let slot = 1; slot <= 10; slot++) {
    store.recordSeen(slot, 'm1', KEY, slot, 0);
    store.saveOpenSlot(slot, KEY, product, 1);
  }
  for (let slot = 1; slot <= 4; slot++) store.closeSlot(slot, KEY, 'suppressed', slot % 2 ? 'below-k' : 'members-missing', null, 0);
  for (let slot = 5; slot <= 7; slot++) {
    store.closeSlot(slot, KEY, 'closing', null, product, 0);
    if (slot < 7) store.markPublished(slot, KEY);
  }
  // Slot 7 is closing (not confirmed by the broker), 8..10 are open: kept whatever their age.
  const counts = store.suppressions();
  const collector = new Collector(store.db, aggregatorCollection(store.db, config), { batchRows: 3, now: () => 1e12 });
  t.deepEqual(await collector.collect(), { seen: 6, slots: 6 });
  t.deepEqual(store.suppressions(), counts, 'the counts on the status topic stay');
  t.deepEqual(counts, { 'below-k': 2, 'members-missing': 2 });
  t.deepEqual(
    [7, 8, 9, 10].map((s) => store.hasSeen(s, 'm1')),
    [true, true, true, true],
  );
  t.deepEqual(
    store.openSlots().map((s) => s.slot),
    [8, 9, 10],
  );
  t.deepEqual(
    store.unpublished().map((s) => s.slot),
    [7],
  );
});

test('a custodian forgets what it helped decrypt only past the horizon, and refuses a request for such a slot by the horizon, by its own clock', async (t) => {
  const { dir, config } = setup(t);
  const keySet = testThresholdKeySet(2, 3);
  const keyId = keySet.publicKey.keyId;
  const store = new CustodianStore(join(dir, 'c.sqlite'), { keyIds: [keyId], index: 1 }, 'process');
  t.teardown(() => store.close());
  let clock = slotEndMs(100, config.slotSeconds);
  const custodian = new Custodian({ config, shares: [keySet.shares[0]], store, meterKey: () => undefined, now: () => clock });
  const aggregate = (slot: number): Aggregate => ({
    groupId: 'g',
    slot,
    keyId,
    packed: 1,
    count: 2,
    contributors: ['m1', 'm2'],
    ciphertext: new Uint8Array(keySet.publicKey.paillier.ciphertextBytes).fill(7),
  });
  const partial = JSON.stringify({ index: 1, value: 'test-only' });
  for (const slot of [90, 99, 100])
    store.insertHelped({
      groupId: 'g',
      slot,
      keyId,
      contributors: ['m1', 'm2'],
      aggregateHash: aggregateHash(aggregate(slot)),
      partial,
      helpedAt: clock,
    });
  const ask = async (slot: number) => custodian.handleRequest(encodeRequest({ requestId: `r${slot}`, aggregate: aggregate(slot) }));

  // Slot 90 ended 100 s ago, past the 60 s horizon: refused by time, though the record is still there.
  t.like(await ask(90), { status: 'refused', reason: 'beyond-horizon' });
  t.like(await ask(99), { status: 'partial', partial: JSON.parse(partial) }, 'inside the horizon the record answers');

  const collector = new Collector(store.db, custodianCollection(store.db, config), { batchRows: 3, now: () => clock });
  t.deepEqual(await collector.collect(), { helped: 0, refusals: 0 }, 'the collection margin keeps slot 90 a while longer');
  clock += COLLECTION_MARGIN_SECONDS * 1000;
  t.deepEqual(await collector.collect(), { helped: 1, refusals: 0 });
  t.deepEqual(
    [90, 99, 100].map((s) => store.helpedOf('g', s).length),
    [0, 1, 1],
  );
  t.like(await ask(90), { status: 'refused', reason: 'beyond-horizon' }, 'forgotten, and still refused');
  clock += config.retention.refusalsSeconds * 1000 + 1;
  t.like(await collector.collect(), { refusals: 2 });
});

test('downsampling folds old slots and feeder readings into coarse rows by their sums, across batches, and leaves recent slots fine', async (t) => {
  const { dir, config } = setup(t, { retention: { horizonSeconds: 60, batchRows: 4, downsample: { afterSeconds: 120, slots: 6 } } });
  const store = new ProviderStore(join(dir, 'p.sqlite'), [KEY]);
  t.teardown(() => store.close());
  for (let slot = 0; slot < 30; slot++) {
    // Slot 7 was never decrypted (suppressed, say) and slot 8 has no feeder reading.
    if (slot !== 7)
      store.insertSeries({
        groupId: 'g',
        slot,
        contributors: ['m1', 'm2'],
        total: BigInt(slot),
        readings: [BigInt(slot)],
        aggregateHash: `h${slot}`,
        decryptedAt: 0,
      });
    if (slot !== 8) store.saveFeeder('g', slot, BigInt(100 + slot), 0);
  }
  // Slots 0..23 are past afterSeconds and the margin; 24..29 are not.
  const now = slotEndMs(23, config.slotSeconds) + (120 + COLLECTION_MARGIN_SECONDS) * 1000;
  const collector = new Collector(store.db, providerCollection(store.db, config), { batchRows: 4, now: () => now });
  t.like(await collector.collect(), { series: 23, feeder: 23 });
  const sum = (from: number, to: number, skip: number, plus = 0n) => {
    let s = 0n;
    for (let i = from; i < to; i++) if (i !== skip) s += BigInt(i) + plus;
    return s;
  };
  t.deepEqual(coarseRange(store.db, 'g', 0, 30), [
    { groupId: 'g', slot: 0, slots: 6, decrypted: 6, total: sum(0, 6, -1), feederSlots: 6, feeder: sum(0, 6, -1, 100n) },
    { groupId: 'g', slot: 6, slots: 6, decrypted: 5, total: sum(6, 12, 7), feederSlots: 5, feeder: sum(6, 12, 8, 100n) },
    { groupId: 'g', slot: 12, slots: 6, decrypted: 6, total: sum(12, 18, -1), feederSlots: 6, feeder: sum(12, 18, -1, 100n) },
    { groupId: 'g', slot: 18, slots: 6, decrypted: 6, total: sum(18, 24, -1), feederSlots: 6, feeder: sum(18, 24, -1, 100n) },
  ]);
  t.deepEqual(
    store.seriesRange('g', 0, 30).map((r) => r.slot),
    [24, 25, 26, 27, 28, 29],
  );
});

test('the retention config refuses a horizon shorter than the acceptance horizon plus skew and a slot, and downsampling before the horizon', (t) => {
  t.throws(() => setup(t, { retention: { horizonSeconds: 15 } }), { message: /retention.horizonSeconds: must be at least 16/ });
  t.throws(() => setup(t, { retention: { horizonSeconds: 60, downsample: { afterSeconds: 30, slots: 6 } } }), {
    message: /retention.downsample.afterSeconds: must be at least retention.horizonSeconds/,
  });
  t.throws(() => setup(t, { retention: { keepForever: true } }), { message: /retention: unknown key "keepForever"/ });
  t.like(setup(t, { retention: undefined }).config.retention, {
    horizonSeconds: 7 * 86_400,
    refusalsSeconds: 30 * 86_400,
    downsample: null,
  });
});
