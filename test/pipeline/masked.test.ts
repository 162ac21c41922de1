/**
 * The masked scheme end to end over the embedded broker, in both modes: the provider holding the
 * meters' mask keys, and verifiable with three custodians that each hold their own (n of n). The
 * meters are Node meters speaking the masked format (host/simulate/node-meter.ts). Besides the
 * totals: what the aggregator sees is no total, a meter rebooted inside a reported slot cannot
 * send it again with another value, and the attacks the masked mode opens are refused.
 */
import test from 'ava';
import { MeterveilError } from '../../firmware/errors.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { decodeReport } from '../../firmware/protocol/report.ts';
import Database from 'better-sqlite3';
import { aggregatorStorePath } from '../../host/aggregator/run.ts';
import { meterMacKey } from '../../host/config/secrets.ts';
import { runMaskedCustodian, type RunningCustodian } from '../../host/custodian/run.ts';
import { encodeRequest } from '../../host/decryption/messages.ts';
import { decodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { nodeHmacSha256 } from '../../host/protocol/mac.ts';
import { slotAt } from '../../host/protocol/slots.ts';
import { deploy, ids, nodeMeterOf, type TestDeployment } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { oneGroup, reportNextSlot, sleep } from './support/one-group.ts';

/** The aggregate a group's aggregator published for a slot, from its own store (what it holds). */
function storedAggregate(d: TestDeployment, groupId: string, slot: number): Aggregate {
  const db = new Database(aggregatorStorePath(d.config, groupId), { readonly: true });
  try {
    return decodeAggregate((db.prepare('SELECT message FROM slots WHERE slot = ?').get(slot) as { message: Buffer }).message);
  } finally {
    db.close();
  }
}

test('single-key masked: the provider subtracts the contributors’ masks and gets the exact total; the aggregator’s sum is no total', async (t) => {
  const g = await oneGroup(t, { members: ids('mk', 5), k: 3, deploy: { masked: {} } });
  const { d, members, meters, decrypted } = g;
  t.is(d.config.scheme.name, 'masked');
  const slot = await reportNextSlot(g, [11n, 22n, 33n, 44n, 55n]);
  t.true(meters.every((m) => m.acks.some((a) => a.slot === slot && a.status === 0)));
  await until(() => decrypted.length === 1, 'the slot to be decrypted', 15_000);
  const published = storedAggregate(d, 'street', slot);
  t.is(decrypted[0].total, 165n);
  t.is(decrypted[0].count, 5);
  // What the aggregator summed is masked: a value modulo 2^W that is not the total.
  t.is(published.ciphertext.length, 3);
  t.not(BigInt('0x' + Buffer.from(published.ciphertext).toString('hex')), 165n);
  // A report's value is one masked reading: the same reading in two slots gives unrelated values.
  const a = decodeReport(meters[0].encode(slot + 5, [11n]), meterMacKey(d.secrets, members[0]), nodeHmacSha256);
  const b = decodeReport(meters[0].encode(slot + 6, [11n]), meterMacKey(d.secrets, members[0]), nodeHmacSha256);
  t.notDeepEqual(a.ciphertext, b.ciphertext);
});

test('a masked meter rebooted inside a slot it reported cannot send that slot again with another value, nor an earlier slot', async (t) => {
  const members = ids('mr', 3);
  const d = await deploy({ groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }], masked: {} });
  t.teardown(() => d.cleanup());
  const storage = new MemoryStorage();
  const first = nodeMeterOf(d, members[0], ['street'], {}, storage);
  t.teardown(() => first.close());
  const slot = slotAt(Date.now(), d.config.slotSeconds);
  const sent = first.encode(slot, [40n]);
  // Reboot: a new meter on the same storage, which measured the slot again and got another value.
  const again = nodeMeterOf(d, members[0], ['street'], {}, storage);
  t.teardown(() => again.close());
  t.is(t.throws(() => again.encode(slot, [41n]), { instanceOf: MeterveilError })?.reason, 'mask-already-used');
  t.is(t.throws(() => again.encode(slot - 1, [40n]), { instanceOf: MeterveilError })?.reason, 'mask-already-used');
  // The same value again is a resend from the outbox: the mask still covers one value only.
  const resent = decodeReport(again.encode(slot, [40n]), meterMacKey(d.secrets, members[0]), nodeHmacSha256);
  t.deepEqual(resent.ciphertext, decodeReport(sent, meterMacKey(d.secrets, members[0]), nodeHmacSha256).ciphertext);
  t.notThrows(() => again.encode(slot + 1, [41n]));
  // Another meter's storage knows nothing of it: the ledger is the meter's own.
  const elsewhere = nodeMeterOf(d, members[0], ['street']);
  t.teardown(() => elsewhere.close());
  t.notThrows(() => elsewhere.encode(slot, [41n]));
});

test('verifiable masked, 3 of 3: the total needs every custodian’s mask sum; a custodian offline holds the slot, and a request for a subset is refused', async (t) => {
  t.timeout(90_000, 'three wall-clock slots with a custodian stopped and started');
  const custodians = new Map<number, RunningCustodian>();
  const startCustodian = async (d: TestDeployment, index: number) =>
    custodians.set(index, await runMaskedCustodian(d.config, index, { waitForAggregateMs: 2000 }));
  t.teardown(async () => {
    for (const c of custodians.values()) await c.stop();
  });
  const g = await oneGroup(t, {
    members: ids('mv', 4),
    k: 2,
    deploy: { masked: { custodians: 3, timeoutMs: 1500, retryMs: 500 } },
    before: async (d) => {
      for (const index of [1, 2, 3]) await startCustodian(d, index);
    },
  });
  const { d, members, decrypted } = g;
  const slot = await reportNextSlot(g, [100n, 200n, 300n, 400n]);
  await until(() => decrypted.length === 1, 'the slot to be decrypted', 15_000);
  t.is(decrypted[0].total, 1000n);

  // The provider asks for the masks of three of the four contributors: their sum against the
  // first total would give the fourth meter's reading. No aggregator published such an aggregate,
  // so no custodian has the reports that make it up, and none gives its masks.
  const keyId = d.config.scheme.name === 'masked' ? d.config.scheme.keyId : '';
  const subset: Aggregate = {
    groupId: 'street',
    slot,
    keyId,
    packed: 1,
    count: 3,
    contributors: members.slice(0, 3),
    ciphertext: new Uint8Array(3),
  };
  const answers = await Promise.all(
    [...custodians.values()].map((c) => c.custodian.handleRequest(encodeRequest({ requestId: 'subset', aggregate: subset }))),
  );
  t.deepEqual(
    answers.map((a) => (a?.status === 'refused' ? a.reason : a?.status)),
    ['unverified-aggregate', 'unverified-aggregate', 'unverified-aggregate'],
  );
  // The published aggregate asked for again, by anyone: the same mask sums, which reveal nothing new.
  const again = await custodians.get(1)!.custodian.handleRequest(
    encodeRequest({
      requestId: 'again',
      aggregate: { ...subset, contributors: members, count: 4, ciphertext: storedAggregate(d, 'street', slot).ciphertext },
    }),
  );
  t.is(again?.status, 'mask-sum');

  // n of n: with custodian 3 away the next slot waits; once it is back the slot is decrypted once.
  await custodians.get(3)!.stop();
  custodians.delete(3);
  const held = await reportNextSlot(g, [10n, 20n, 30n, 40n]);
  await sleep(3000);
  t.is(decrypted.length, 1, 'two custodians of three cannot remove the masks');
  await startCustodian(d, 3);
  await until(() => decrypted.length === 2, 'the held slot to be decrypted', 20_000);
  t.is(decrypted[1].slot, held);
  t.is(decrypted[1].total, 100n);
});
