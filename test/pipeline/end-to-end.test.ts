import { readFileSync } from 'node:fs';
import test from 'ava';
import { runProvider } from '../../host/provider/run.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { feederUser } from '../../host/config/identities.ts';
import { Feeder } from '../../host/feeder/feeder.ts';
import { deploy, ids, TEST_API_TOKEN } from '../../tools/pipeline/deployment.ts';
import { getJson } from './support/probe.ts';
import { oneGroup, reportNextSlot } from './support/one-group.ts';
import { until } from '../helpers/poll.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

test('a version-1 key (classic r^n) still works end to end: its meters encrypt with r^n and the total decrypts', async (t) => {
  const keyPair = testKeyPair(1, 'classic');
  t.is(keyPair.publicKey.shortExponent, undefined);
  const g = await oneGroup(t, { members: ids('v1-', 3), k: 3, deploy: { keyPair } });
  const { d, decrypted } = g;
  t.is(JSON.parse(readFileSync(d.config.keys.publicKey, 'utf8')).version, 1);
  t.is(d.publicKey.shortExponent, undefined, 'the meters encrypt under the version-1 key');
  await reportNextSlot(g, [100n, 101n, 102n]);
  await until(() => decrypted.length === 1, 'the slot to be decrypted', 15_000);
  t.is(decrypted[0].total, 303n);
});

test('reports of one group become one decrypted total, acknowledged to every meter, and served by the API', async (t) => {
  const g = await oneGroup(t, { members: ids('m', 5), k: 3 });
  const { d, members, provider, aggregator, meters, decrypted } = g;
  const slot = await reportNextSlot(g, [11n, 22n, 33n, 44n, 55n]);
  t.true(
    meters.every((m) => m.acks.some((a) => a.slot === slot && a.status === 0)),
    'every meter got a stored ack',
  );

  await until(() => decrypted.length === 1, 'the slot to be decrypted', 15_000);
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

  // The feeder measured more than the meters reported (a tap before the meters): an alert.
  const feederClient = connectRole({
    url: d.config.broker.url,
    username: feederUser('feeder-street'),
    password: d.secrets.services[feederUser('feeder-street')],
    persistent: false,
  });
  await connected(feederClient);
  t.teardown(() => endClient(feederClient));
  new Feeder({ feederId: 'feeder-street', slotSeconds: d.config.slotSeconds, client: feederClient, measure: () => 200n }).publishSlot(slot);
  await until(() => provider.store.alerts(10).length === 1, 'the alert', 10_000);
  const alerts = (await getJson(`${provider.apiUrl}/api/alerts`)).body;
  t.is(alerts[0].groupId, 'street');
  t.is(alerts[0].feeder, '200');
  t.is(alerts[0].deviation, 0.175);
  const after = (await getJson(`${provider.apiUrl}/api/groups/street/series?from=${slot * 2 - 10}&to=${slot * 2 + 10}`)).body;
  t.is(after.series[0].status, 'alert');
});

test('the HTTP API refuses bad parameters with a reason and serves only group-level data and, per meter, its health', async (t) => {
  const d = await deploy({ groups: [{ id: 'street', members: ids('m', 3), feeder: 'feeder-street', k: 2 }] });
  t.teardown(() => d.cleanup());
  const provider = await runProvider(d.config);
  t.teardown(() => provider.stop());
  const api = provider.apiUrl;
  t.deepEqual((await getJson(`${api}/api/groups/street/series?from=yesterday`)).body.error, 'bad-time');
  t.deepEqual((await getJson(`${api}/api/groups/street/series?from=2000&to=1000`)).body.error, 'bad-range');
  t.deepEqual((await getJson(`${api}/api/groups/street/series?from=0&to=1000000`)).body.error, 'range-too-large');
  t.deepEqual((await getJson(`${api}/api/groups/street/series?meter=m1`)).body.error, 'unknown-parameter');
  t.deepEqual((await getJson(`${api}/api/refusals?limit=0`)).status, 400);
  t.deepEqual((await getJson(`${api}/api/groups/nowhere/series`)).status, 404);
  // Per meter, only its health status (docs/privacy.md, "Meter health"): no series, no reading.
  t.deepEqual(Object.keys((await getJson(`${api}/api/meters/m1`)).body), [
    'meterId',
    'firmware',
    'keyId',
    'at',
    'uptime',
    'pool',
    'outbox',
    'dropped',
    'acksRejected',
    'storageFull',
    'sensorMisses',
    'freeMemory',
    'receivedAt',
  ]);
  t.deepEqual((await getJson(`${api}/api/meters/m1/series`)).status, 404);
  t.deepEqual((await getJson(`${api}/api/meters/nowhere`)).status, 404);
  t.is((await fetch(`${api}/api/health`, { method: 'POST', headers: { authorization: `Bearer ${TEST_API_TOKEN}` } })).status, 405);
  t.deepEqual((await getJson(`${api}/api/groups`)).body, [{ id: 'street', members: ['m1', 'm2', 'm3'], feeder: 'feeder-street', k: 2 }]);
  const series = await getJson(`${api}/api/groups/street/series?from=2026-11-30T00:00:00Z&to=2026-11-30T01:00:00Z`);
  t.is(series.status, 200);
  t.deepEqual(series.body.series, []);
});
