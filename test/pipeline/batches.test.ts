/**
 * The aggregator commits accepted reports in batches (one SQLite transaction per event-loop turn,
 * at most 512) and acknowledges them after the commit. Under a burst of 600 reports, with copies
 * of reports inside one batch and across batches: every `stored` acknowledgement finds its report
 * already in the file, each report counts once, each copy is answered `duplicate`; and a kill -9
 * in the middle of the burst loses no acknowledged report.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { bigIntToBytes, bytesToBigInt } from '../../firmware/bytes.ts';
import { AckStatus, reportTopic, type Ack } from '../../firmware/protocol/report.ts';
import { aggregatorStorePath, runAggregator } from '../../host/aggregator/run.ts';
import { slotAt } from '../../host/protocol/slots.ts';
import { deploy, ids, type TestDeployment } from '../../tools/pipeline/deployment.ts';
import type { NodeMeter } from '../../host/simulate/node-meter.ts';
import { RoleProcess } from '../../tools/pipeline/role-process.ts';
import { benchRandomness } from '../../tools/bench/pipeline/bench-meters.ts';
import { until } from '../helpers/poll.ts';

const METERS = 30;
const SLOTS = 20;

/** A group whose slots stay open through the test: 60 s slots, long lateness and outage bound. */
async function burst(resendMs: number) {
  const members = ids('m', METERS);
  const d = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }],
    extra: { slotSeconds: 60, latenessSeconds: 3600, outageSeconds: 7200, skewSeconds: 60 },
  });
  const rn = benchRandomness(d.publicKey, 20);
  const meters = await Promise.all(members.map((m) => d.meter(m, ['street'], { rn, resendMs })));
  const last = slotAt(Date.now(), 60);
  const slots = Array.from({ length: SLOTS }, (_, i) => last - SLOTS + 1 + i);
  // Slot by slot, every meter's report of one slot, then the next: 600 messages at once.
  const reports = slots.flatMap((slot, s) =>
    meters.map((m, i) => ({ m, meterId: members[i], slot, bytes: m.encode(slot, [BigInt(i + s)]) })),
  );
  return { d, meters, slots, reports };
}

const storedAcks = (meters: NodeMeter[]) => meters.flatMap((m) => m.acks.filter((a) => a.status === AckStatus.stored));
const seenRows = (d: TestDeployment) => {
  const db = new Database(aggregatorStorePath(d.config, 'street'), { readonly: true });
  try {
    return db.prepare('SELECT count(*) FROM seen').pluck().get() as number;
  } finally {
    db.close();
  }
};

test('a burst with copies inside a batch and across batches: each stored acknowledgement follows its commit, each report counts once', async (t) => {
  const { d, meters, slots, reports } = await burst(600_000);
  t.teardown(() => d.cleanup());
  const aggregator = await runAggregator(d.config, 'street');
  t.teardown(() => aggregator.stop());
  const file = new Database(aggregatorStorePath(d.config, 'street'), { readonly: true });
  t.teardown(() => file.close());
  const committed = file.prepare('SELECT 1 FROM seen WHERE slot = ? AND meter_id = ?').pluck();
  const uncommitted: Ack[] = [];
  for (const m of meters) {
    // After the meter's own listener has decoded the acknowledgement.
    m.client.on('message', () => {
      const ack = m.acks.at(-1);
      if (ack?.status === AckStatus.stored && committed.get(ack.slot, ack.meterId) === undefined) uncommitted.push(ack);
    });
  }
  // Every third report twice in a row: both copies in one batch.
  await Promise.all(
    reports.map((r, i) => {
      if (i % 3 === 0) r.m.publishRaw(reportTopic('street', r.meterId), r.bytes);
      return r.m.send(r.slot, r.bytes);
    }),
  );
  const inBatch = Math.ceil(reports.length / 3);
  await until(() => aggregator.aggregator.rejections.toJSON().duplicate === inBatch, 'every in-batch copy answered', 20_000);
  // Then every report of the first slot again: copies across batches.
  await Promise.all(reports.filter((r) => r.slot === slots[0]).map((r) => r.m.send(r.slot, r.bytes)));

  t.deepEqual(uncommitted, [], 'no report acknowledged stored before its commit');
  const stored = storedAcks(meters);
  t.is(stored.length, reports.length, 'one stored acknowledgement per report');
  t.is(new Set(stored.map((a) => `${a.meterId}/${a.slot}`)).size, reports.length);
  t.is(aggregator.aggregator.accepted, reports.length);
  t.is(aggregator.aggregator.rejections.toJSON().duplicate, inBatch + METERS, 'every copy answered duplicate');
  const duplicates = meters.flatMap((m) => m.acks.filter((a) => a.status === AckStatus.duplicate)).length;
  t.is(duplicates, inBatch + METERS);
  t.is(seenRows(d), reports.length);
  const counts = file.prepare('SELECT slot, count FROM slots ORDER BY slot').all() as { slot: number; count: number }[];
  t.deepEqual(
    counts,
    slots.map((slot) => ({ slot, count: METERS })),
    'each slot counts each member once',
  );
});

test('kill -9 of the aggregator in the middle of a burst loses no acknowledged report and counts none twice', async (t) => {
  t.timeout(120_000, 'a burst of 600 reports, a kill -9 and a restart');
  const { d, meters, slots, reports } = await burst(1000);
  t.teardown(() => d.cleanup());
  const aggregator = new RoleProcess(['aggregator', '--config', d.configPath, '--group', 'street']);
  t.teardown(() => aggregator.stop());
  await aggregator.start();
  const all = Promise.all(reports.map((r) => r.m.send(r.slot, r.bytes)));
  await until(() => storedAcks(meters).length >= 100, 'some batches acknowledged', 30_000);
  await aggregator.kill9();
  const acknowledged = storedAcks(meters);
  t.true(acknowledged.length < reports.length, 'killed before the burst was through');
  const db = new Database(aggregatorStorePath(d.config, 'street'), { readonly: true });
  const committed = db.prepare('SELECT 1 FROM seen WHERE slot = ? AND meter_id = ?').pluck();
  t.deepEqual(
    acknowledged.filter((a) => committed.get(a.slot, a.meterId) === undefined),
    [],
    'every acknowledged report is in the file',
  );
  db.close();

  await aggregator.start();
  await all;
  await aggregator.stop();
  t.is(seenRows(d), reports.length);
  const file = new Database(aggregatorStorePath(d.config, 'street'), { readonly: true });
  t.teardown(() => file.close());
  t.deepEqual(
    file.prepare('SELECT slot, count FROM slots ORDER BY slot').all(),
    slots.map((slot) => ({ slot, count: METERS })),
    'each slot counts each member once, across the kill',
  );
});

test('multiples of n inside a burst are found on their batch products: refused, never counted, the rest of the batch kept; their meters are checked report by report after', async (t) => {
  const { d, meters, slots, reports } = await burst(600_000);
  t.teardown(() => d.cleanup());
  const aggregator = await runAggregator(d.config, 'street');
  t.teardown(() => aggregator.stop());
  const { publicKey } = d;
  // A report ends with its ciphertext, the authenticator count (0 here) and the tag.
  const ciphertextOf = (bytes: Uint8Array) =>
    bytesToBigInt(bytes.subarray(bytes.length - 33 - publicKey.ciphertextBytes, bytes.length - 33));
  // Three meters' reports of a slot in the middle are multiples of n (each with a valid tag), sent
  // among the others, and one of them again later: a resend to a meter already suspected.
  const spoilers = new Set([3, 11, 27]);
  const target = slots[SLOTS / 2];
  const multiples = new Map<number, Uint8Array>();
  for (const i of spoilers)
    multiples.set(i, meters[i].encode(target, [0n], { ciphertext: bigIntToBytes(publicKey.n * BigInt(7 + i), publicKey.ciphertextBytes) }));
  const valid = reports.filter((r) => !(r.slot === target && spoilers.has(meters.indexOf(r.m))));
  await Promise.all([
    ...valid.map((r) => r.m.send(r.slot, r.bytes)),
    ...[...multiples].map(([i, bytes]) => {
      meters[i].publishRaw(reportTopic('street', members(i)), bytes);
      return until(() => meters[i].acks.some((a) => a.slot === target && a.status === AckStatus.refused), 'the multiple refused', 20_000);
    }),
  ]);
  t.is(aggregator.aggregator.rejections.toJSON()['ciphertext-out-of-range'], spoilers.size, 'each multiple of n refused');
  t.is(aggregator.aggregator.accepted, valid.length, 'every other report of the burst counted');
  const file = new Database(aggregatorStorePath(d.config, 'street'), { readonly: true });
  t.teardown(() => file.close());
  const product = (slot: number) => bytesToBigInt(file.prepare('SELECT product FROM slots WHERE slot = ?').pluck().get(slot) as Buffer);
  const expected = valid.filter((r) => r.slot === target).reduce((acc, r) => (acc * ciphertextOf(r.bytes)) % publicKey.nSquared, 1n);
  t.is(product(target), expected, "the slot's product is that of its other reports");
  t.deepEqual(
    file.prepare('SELECT meter_id FROM seen WHERE slot = ? ORDER BY meter_id').pluck().all(target),
    valid
      .filter((r) => r.slot === target)
      .map((r) => r.meterId)
      .sort(),
  );

  // A suspect's next multiple is refused on arrival, and its real report of the slot still counts.
  meters[3].publishRaw(reportTopic('street', members(3)), multiples.get(3)!);
  await until(
    () => meters[3].acks.filter((a) => a.slot === target && a.status === AckStatus.refused).length === 2,
    'the resent multiple refused',
    10_000,
  );
  t.is(aggregator.aggregator.rejections.toJSON()['ciphertext-out-of-range'], spoilers.size + 1);
  const real = reports.find((r) => r.slot === target && r.meterId === members(3))!;
  await real.m.send(real.slot, real.bytes);
  t.is(product(target), (expected * ciphertextOf(real.bytes)) % publicKey.nSquared);
});

const members = (i: number) => ids('m', METERS)[i];
