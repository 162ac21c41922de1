import test from 'ava';
import Database from 'better-sqlite3';
import { aggregatorStorePath } from '../../host/aggregator/run.ts';
import { slotAt, slotStartMs } from '../../host/protocol/slots.ts';
import { providerStorePath } from '../../host/provider/run.ts';
import { deploy, freePort, ids } from '../../tools/pipeline/deployment.ts';
import { getJson } from './support/probe.ts';
import { until } from '../helpers/poll.ts';
import { RoleProcess } from '../../tools/pipeline/role-process.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('kill -9 of the aggregator and of the provider mid-slot loses no acknowledged report and counts none twice', async (t) => {
  t.timeout(180_000, 'three wall-clock slots, three role restarts, then up to a minute until all are decrypted');
  const members = ids('m', 6);
  const httpPort = await freePort();
  const d = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 3 }],
    extra: { slotSeconds: 3, latenessSeconds: 8, skewSeconds: 3, http: { host: '127.0.0.1', port: httpPort } },
  });
  t.teardown(() => d.cleanup());
  const aggregator = new RoleProcess(['aggregator', '--config', d.configPath, '--group', 'street']);
  const provider = new RoleProcess(['provider', '--config', d.configPath]);
  t.teardown(async () => {
    await aggregator.stop();
    await provider.stop();
  });
  await Promise.all([aggregator.start(), provider.start()]);

  const meters = await Promise.all(members.map((m) => d.meter(m, ['street'])));
  const reading = (slot: number, i: number) => BigInt((slot % 7) + i + 1);
  const expected = (slot: number) => members.reduce((sum, _m, i) => sum + reading(slot, i), 0n);
  const sendSlot = (slot: number) => Promise.all(meters.map((m, i) => m.report(slot, [reading(slot, i)])));

  const first = slotAt(Date.now(), d.config.slotSeconds) + 1;
  await sleep(slotStartMs(first, d.config.slotSeconds) - Date.now() + 20);
  const slots = [first, first + 1, first + 2];

  // Slot 1: the aggregator dies after some reports are acknowledged, the rest wait in the outboxes.
  const one = sendSlot(slots[0]);
  await until(() => meters.filter((m) => m.pending === 0).length >= 2, 'some acknowledgements', 20_000);
  await aggregator.kill9();
  await aggregator.start();
  await one;

  // Slot 2: the provider dies while slot 1's aggregate is due; its persistent session keeps it.
  await sleep(Math.max(0, slotStartMs(slots[1], d.config.slotSeconds) - Date.now() + 20));
  const two = sendSlot(slots[1]);
  await provider.kill9();
  await two;
  await sleep(Math.max(0, slotStartMs(slots[2], d.config.slotSeconds) - Date.now() + 20));
  const three = sendSlot(slots[2]);
  // And the aggregator once more, in the middle of slot 3.
  await aggregator.kill9();
  await aggregator.start();
  await provider.start();
  await three;

  const url = `http://127.0.0.1:${httpPort}/api/groups/street/series?from=${slotStartMs(first, 3) / 1000}&to=${slotStartMs(first + 3, 3) / 1000}`;
  let series: { slot: number; total: string; contributors: number }[] = [];
  await until(
    async () => (series = (await getJson(url)).body.series).length === 3,
    'three slots decrypted',
    60_000,
    () => ` (have ${series.map((s) => s.slot).join(', ')}):\n${aggregator.output.join('')}${provider.output.join('')}`,
  );
  t.deepEqual(
    series.map((s) => s.slot),
    slots,
    `every slot decrypted once:\n${aggregator.output.join('')}${provider.output.join('')}`,
  );
  for (const s of series) {
    t.is(s.contributors, members.length);
    t.is(s.total, expected(s.slot).toString(), `slot ${s.slot} total`);
  }
  await aggregator.stop();
  await provider.stop();

  const agg = new Database(aggregatorStorePath(d.config, 'street'), { readonly: true });
  t.teardown(() => agg.close());
  for (const slot of slots) {
    t.is(agg.prepare('SELECT count(*) FROM seen WHERE slot = ?').pluck().get(slot), members.length);
    t.is(agg.prepare('SELECT state FROM slots WHERE slot = ?').pluck().get(slot), 'published');
  }
  const prov = new Database(providerStorePath(d.config), { readonly: true });
  t.teardown(() => prov.close());
  t.is(prov.prepare('SELECT count(*) FROM series').pluck().get(), 3);
  t.is(prov.prepare('SELECT count(*) FROM refusals').pluck().get(), 0);
});
