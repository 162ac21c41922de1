/**
 * The pipeline in threshold mode with a real 2048-bit 2-of-3 key over the embedded broker: meters,
 * aggregator and custodians as the deployment runs them, the provider as its own process (so that
 * it can be killed with SIGKILL). The provider holds no private key.
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { runAggregator } from '../../host/aggregator/run.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { aggregatorUser, PROVIDER_USER } from '../../host/config/identities.ts';
import { ThresholdDecryptionClient } from '../../host/decryption/threshold-client.ts';
import { runCustodian, type RunningCustodian } from '../../host/custodian/run.ts';
import { slotAt, slotStartMs } from '../../host/protocol/slots.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { providerStorePath, runProvider } from '../../host/provider/run.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { provision } from '../../host/start/provision.ts';
import { readThresholdPublicKeyFile } from '../../host/threshold/key-files.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { deploy, freePort, ids } from '../../tools/pipeline/deployment.ts';
import { getJson } from './support/probe.ts';
import { until } from '../helpers/poll.ts';
import { RoleProcess } from '../../tools/pipeline/role-process.ts';
import { deploymentKeys, publishVerifiable, verifiableAggregate, type VerifiableAggregate } from '../helpers/evidence.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';
import { recentSlot } from '../helpers/recent-slot.ts';

const keySet = testThresholdKeySet(2, 3);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('2 of 3 custodians: totals with all three and with one stopped; with two stopped the slot waits with a reason, and after kill -9 of the provider it is decrypted once', async (t) => {
  t.timeout(180_000, 'four wall-clock slots with custodians stopped and started, and a provider restart');
  const set = keySet;
  const members = ids('m', 5);
  const httpPort = await freePort();
  const d = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 3 }],
    threshold: { set, timeoutMs: 1500, retryMs: 500 },
    extra: { slotSeconds: 2, latenessSeconds: 1, http: { host: '127.0.0.1', port: httpPort } },
  });
  t.teardown(() => d.cleanup());
  t.false(existsSync(join(d.dir, 'data/keys/private.json')), 'threshold mode has no private key');

  const custodians = new Map<number, RunningCustodian>();
  const startCustodian = async (index: number) =>
    custodians.set(index, await runCustodian(d.config, set.shares[index - 1], { waitForAggregateMs: 2000 }));
  const stopCustodian = async (index: number) => {
    await custodians.get(index)!.stop();
    custodians.delete(index);
  };
  t.teardown(async () => {
    for (const index of [...custodians.keys()]) await stopCustodian(index);
  });
  for (const index of [1, 2, 3]) await startCustodian(index);

  const aggregator = await runAggregator(d.config, 'street');
  t.teardown(() => aggregator.stop());
  const provider = new RoleProcess(['provider', '--config', d.configPath]);
  t.teardown(() => provider.stop());
  await provider.start();
  const api = `http://127.0.0.1:${httpPort}/api`;

  const meters = await Promise.all(members.map((m) => d.meter(m, ['street'])));
  const reading = (slot: number, i: number) => BigInt((slot % 11) * 10 + i + 1);
  const expected = (slot: number) => members.reduce((sum, _m, i) => sum + reading(slot, i), 0n);
  const nextSlot = async () => {
    const slot = slotAt(Date.now(), d.config.slotSeconds) + 1;
    await sleep(slotStartMs(slot, d.config.slotSeconds) - Date.now() + 20);
    await Promise.all(meters.map((m, i) => m.report(slot, [reading(slot, i)])));
    return slot;
  };
  const seriesOf = async (slots: number[]) => {
    const from = slotStartMs(slots[0], 2) / 1000;
    const to = slotStartMs(slots[slots.length - 1] + 1, 2) / 1000;
    return (await getJson(`${api}/groups/street/series?from=${from}&to=${to}`)).body.series as { slot: number; total: string }[];
  };
  const decrypted = async (slot: number) => (await seriesOf([slot])).find((s) => s.slot === slot);
  const waitDecrypted = (slot: number) =>
    until(
      () => decrypted(slot),
      `slot ${slot} decrypted`,
      20_000,
      () => `:\n${provider.output.join('')}`,
    );

  const all = await nextSlot();
  t.is((await waitDecrypted(all)).total, expected(all).toString(), 'all three custodians');

  await stopCustodian(3);
  const two = await nextSlot();
  t.is((await waitDecrypted(two)).total, expected(two).toString(), 'custodians 1 and 2');

  await stopCustodian(2);
  const one = await nextSlot();
  const reservations = async () =>
    (await getJson(`${api}/reservations`)).body as { groupId: string; slot: number; state: string; attempts: number; reason: string }[];
  const row = await until(
    async () => (await reservations()).find((r) => r.slot === one && r.attempts >= 1),
    `a decryption attempt for slot ${one}`,
    20_000,
  );
  t.is(row.state, 'waiting');
  t.is(row.reason, 'not-enough-partials');
  const refusals = (await getJson(`${api}/refusals`)).body as { slot: number; reason: string; detail: string }[];
  const refusal = refusals.find((r) => r.slot === one)!;
  t.is(refusal.reason, 'not-enough-partials');
  t.regex(refusal.detail, /need 2 valid partial decryptions, have 1/);
  t.false(refusal.detail.includes(expected(one).toString()), 'the refusal carries no total');
  t.is(await decrypted(one), undefined, 'no plaintext for the slot one custodian could not decrypt alone');
  t.is((await getJson(`${api}/health`)).body.waiting, 1);

  // The provider dies with the request out; custodian 2 comes back while it is down.
  await provider.kill9();
  await startCustodian(2);
  await provider.start();
  t.is((await waitDecrypted(one)).total, expected(one).toString(), 'decrypted after the restart');
  t.is((await getJson(`${api}/health`)).body.waiting, 0);
  await provider.stop();

  const db = new Database(providerStorePath(d.config), { readonly: true });
  t.teardown(() => db.close());
  t.deepEqual(db.prepare('SELECT slot FROM series ORDER BY slot').pluck().all(), [all, two, one], 'each slot stored once');
  t.is(db.prepare('SELECT count(*) FROM reservations').pluck().get(), 0);
});

test('a differencing pair that only the custodians can see is refused by them, and the refusal surfaces at the provider with their reasons', async (t) => {
  const set = keySet;
  const d = await deploy({
    groups: [
      { id: 'g1', members: ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'], feeder: 'f1', k: 2 },
      { id: 'g2', members: ['m1', 'm2', 'm3', 'm4', 'm7', 'm8'], feeder: 'f2', k: 2 },
    ],
    threshold: { set, timeoutMs: 10_000, retryMs: 500 },
  });
  t.teardown(() => d.cleanup());
  const custodians = await Promise.all(set.shares.map((share) => runCustodian(d.config, share, { waitForAggregateMs: 2000 })));
  t.teardown(async () => {
    for (const c of custodians) await c.stop();
  });
  const key = set.publicKey.paillier;
  const meterKeys = deploymentKeys(d.secrets, set.shares.length);
  const aggregateOf = (groupId: string, slot: number, readings: Record<string, bigint>) =>
    verifiableAggregate(key, meterKeys, groupId, slot, readings);
  const publish = async (verifiable: VerifiableAggregate) => {
    const user = aggregatorUser(verifiable.aggregate.groupId);
    const client = connectRole({ url: d.config.broker.url, username: user, password: d.secrets.services[user], persistent: false });
    await connected(client);
    await publishVerifiable(client, verifiable);
    await endClient(client);
  };

  // An earlier provider, whose store is gone, had g1's slot decrypted: only the custodians remember.
  const slot = recentSlot(5000, d.config.slotSeconds);
  const g1 = aggregateOf('g1', slot, { m1: 10n, m2: 20n, m5: 30n, m6: 40n });
  await publish(g1);
  const earlier = connectRole({
    url: d.config.broker.url,
    username: PROVIDER_USER,
    password: d.secrets.services[PROVIDER_USER],
    clientId: `${PROVIDER_USER}/earlier`,
    persistent: false,
  });
  await connected(earlier);
  const earlierClient = new ThresholdDecryptionClient({ client: earlier, publicKeys: [set.publicKey], timeoutMs: 10_000 });
  await earlierClient.start();
  t.is((await earlierClient.decrypt(g1.aggregate)).plaintext, 100n);
  earlierClient.stop();
  await endClient(earlier);

  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  // With the feeders alone, g2's {m1, m3, m7, m8} splits no cell below k = 2, so the provider, whose
  // own record is empty, asks; with g1's {m1, m2, m5, m6} too, m1, m2, m3 and m4 each form a cell.
  const g2 = aggregateOf('g2', slot, { m1: 10n, m3: 30n, m7: 70n, m8: 80n });
  await publish(g2);
  await until(() => provider.store.reservation('g2', slot, key.keyId)?.state === 'refused', "the custodians' refusal", 20_000);
  const reservation = provider.store.reservation('g2', slot, key.keyId)!;
  t.is(reservation.reason, 'custodians-refused');
  t.regex(reservation.detail!, /have 0 \(custodian \d refused: cell-below-k; custodian \d refused: cell-below-k\)/);
  const refusal = provider.store.refusals(10).find((r) => r.groupId === 'g2' && r.slot === slot)!;
  t.is(refusal.reason, 'custodians-refused');
  t.is(provider.store.series('g2', slot), undefined);
  t.deepEqual(decrypted, []);

  // A refusal is final: the aggregator's republication is recognised and not asked for again.
  await publish(g2);
  await until(() => provider.provider.counts.totals.get('republished') === 1, 'the republication', 10_000);
  t.is(provider.store.reservation('g2', slot, key.keyId)!.attempts, 1);
});

test('start provisioning in threshold mode: public key and 0600 shares on first run, no private key, never regenerated over a partial set', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-start-threshold-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const raw = {
    dataDir: '.',
    groups: [{ id: 'g', members: ['m1', 'm2'], feeder: 'f', k: 2 }],
    provider: { decryption: { mode: 'threshold', threshold: 2, custodians: 3 } },
  };
  const config = parseConfig(raw, (p) => resolve(dir, p));
  const first = await provision(config);
  t.true(first.createdKeys);
  t.false(existsSync(join(dir, 'keys/private.json')));
  for (const i of [1, 2, 3]) t.is(statSync(join(dir, `keys/share-${i}.json`)).mode & 0o777, 0o600);
  t.is(readThresholdPublicKeyFile(join(dir, 'keys/public.json')).keyId, first.publicKey.keyId);
  t.is(JSON.parse(readFileSync(join(dir, 'keys/public.json'), 'utf8')).version, 2, 'a short-exponent key, as npm start makes');
  t.truthy(first.publicKey.shortExponent);
  t.deepEqual(
    Object.keys(first.secrets.services)
      .filter((u) => u.startsWith('custodian.'))
      .sort(),
    ['custodian.1', 'custodian.2', 'custodian.3'],
  );

  const again = await provision(config);
  t.false(again.createdKeys);
  t.is(again.publicKey.keyId, first.publicKey.keyId);
  const otherShape = parseConfig({ ...raw, provider: { decryption: { mode: 'threshold', threshold: 3, custodians: 3 } } }, (p) =>
    resolve(dir, p),
  );
  t.is((await t.throwsAsync(provision(otherShape), { instanceOf: MeterveilError }))!.reason, 'bad-config');
  unlinkSync(join(dir, 'keys/share-2.json'));
  t.is((await t.throwsAsync(provision(config), { instanceOf: MeterveilError }))!.reason, 'key-missing');
});
