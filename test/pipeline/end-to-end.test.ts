import test from 'ava';
import { runAggregator } from '../../host/aggregator/run.ts';
import { runProvider } from '../../host/provider/run.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { slotAt } from '../../host/protocol/slots.ts';
import { deploy, getJson, ids, until } from './support/harness.ts';

test('reports of one group become one decrypted total, acknowledged to every meter, and served by the API', async (t) => {
  const members = ids('m', 5);
  const d = await deploy({ groups: [{ id: 'street', members, feeder: 'feeder-street', k: 3 }] });
  t.teardown(() => d.cleanup());
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const aggregator = await runAggregator(d.config, 'street');
  t.teardown(() => aggregator.stop());

  const meters = await Promise.all(members.map((m) => d.meter(m, ['street'])));
  const slot = slotAt(Date.now(), d.config.slotSeconds);
  const readings = [11n, 22n, 33n, 44n, 55n];
  await Promise.all(meters.map((m, i) => m.report(slot, [readings[i]])));
  t.true(meters.every((m) => m.acks.some((a) => a.slot === slot && a.status === 0)), 'every meter got a stored ack');

  await until(() => decrypted.length === 1, 15_000, 'the slot to be decrypted');
  t.is(decrypted[0].slot, slot);
  t.is(decrypted[0].count, 5);
  t.is(decrypted[0].total, 165n);

  const series = (await getJson(`${provider.apiUrl}/api/groups/street/series?from=${slot * 2 - 10}&to=${slot * 2 + 10}`)).body;
  t.is(series.series.length, 1);
  t.is(series.series[0].total, '165');
  t.deepEqual(series.series[0].reported, members);
  t.is(series.series[0].status, 'awaiting-feeder');
  const health = (await getJson(`${provider.apiUrl}/api/health`)).body;
  t.is(health.decrypted, 1);
  t.is(aggregator.aggregator.accepted, 5);
});
