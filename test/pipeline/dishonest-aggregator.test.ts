/**
 * Attacks of a dishonest aggregator on a threshold deployment (a real 2048-bit 2-of-3 key, the
 * embedded broker with the deployment's ACL, the real provider and three real custodians, honest
 * meters sending real reports). The aggregator of a group holds its members' MAC keys, captures
 * their reports on the broker and publishes, under its own credentials, whatever aggregate and
 * evidence it likes. Each attack would get one household's reading decrypted as a group total;
 * the custodians refuse each by name (each checks its own authenticator in every report,
 * the reports against the aggregate, and recomputes the product), so nothing is stored. In
 * single-key mode nobody can check (the provider must not see the reports): the last test shows
 * that documented limit (README, docs/privacy.md: the aggregator must multiply honestly).
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { concatBytes } from '../../firmware/bytes.ts';
import { ciphertextFromBytes, ciphertextToBytes } from '../../firmware/paillier/codec.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { decodeReport, encodeReport, type Report } from '../../firmware/protocol/report.ts';
import { runAggregator } from '../../host/aggregator/run.ts';
import { aggregatorUser, PROVIDER_USER } from '../../host/config/identities.ts';
import { meterMacKey } from '../../host/config/secrets.ts';
import { runCustodian } from '../../host/custodian/run.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { encodeEvidence } from '../../host/protocol/evidence.ts';
import { slotAt } from '../../host/protocol/slots.ts';
import { aggregateTopic, EVIDENCE_TOPIC_FILTER, evidenceTopic, groupReportsFilter, reportTopicParts } from '../../host/protocol/topics.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { runProvider } from '../../host/provider/run.ts';
import { deploy } from '../../tools/pipeline/deployment.ts';
import type { NodeMeter } from '../../host/simulate/node-meter.ts';
import { until } from '../helpers/poll.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';

const keySet = testThresholdKeySet(2, 3);
const key = keySet.publicKey.paillier;
const DIGEST_KEY = new TextEncoder().encode('meterveil/v2/report-digest');
const random = (n: number) => new Uint8Array(randomBytes(n));

/** Where a report's body (what the digest covers) ends: after its ciphertext. */
const bodyEnd = (m: Uint8Array) => 26 + m[10] + ((m[24 + m[10]] << 8) | m[25 + m[10]]);

/**
 * What an aggregator can make with a meter's MAC key: a report with any fields, sealed so that
 * every aggregator accepts it, carrying the authenticators of a genuine report of that meter.
 */
function forge(fields: Report, macKey: Uint8Array, authenticatorsOf: Uint8Array): Uint8Array {
  const bare = encodeReport(fields, macKey, hmacSha256);
  const body = bare.subarray(0, bodyEnd(bare));
  const tail = authenticatorsOf.subarray(bodyEnd(authenticatorsOf), authenticatorsOf.length - 32);
  return concatBytes(body, tail, hmacSha256(macKey, concatBytes(hmacSha256(DIGEST_KEY, body), tail)));
}

/**
 * Groups A = {a1, a2, s1, s2} and B = {b1, b2, s1, s2}, k = 2 (cells of two meters), with the real
 * provider and custodians and every meter; the attacker logs in as A's aggregator or B's and
 * captures its members' reports, which the honest meters send.
 */
async function setup(t: import('ava').ExecutionContext, mode: 'threshold' | 'single' = 'threshold') {
  const groups = [
    { id: 'A', members: ['a1', 'a2', 's1', 's2'], feeder: 'feeder-a', k: 2 },
    { id: 'B', members: ['b1', 'b2', 's1', 's2'], feeder: 'feeder-b', k: 2 },
  ];
  const d = await deploy(mode === 'threshold' ? { groups, threshold: { set: keySet, timeoutMs: 10_000, retryMs: 1000 } } : { groups });
  t.teardown(() => d.cleanup());
  const shares = mode === 'threshold' ? keySet.shares : [];
  const custodians = await Promise.all(shares.map((share) => runCustodian(d.config, share, { waitForAggregateMs: 2000 })));
  t.teardown(async () => {
    for (const c of custodians) await c.stop();
  });
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const meterIds = [...new Set(groups.flatMap((g) => g.members))];
  const meters = new Map<string, NodeMeter>();
  for (const m of meterIds)
    meters.set(
      m,
      await d.meter(
        m,
        groups.filter((g) => g.members.includes(m)).map((g) => g.id),
      ),
    );
  /** The meters report `slot`; nobody acknowledges, so they keep resending (the attacker keeps the first copy). */
  const report = (slot: number, ids: string[]) => {
    for (const m of ids) void meters.get(m)!.send(slot, meters.get(m)!.encode(slot, [BigInt(1000 + 111 * meterIds.indexOf(m))]));
  };
  return { d, provider, decrypted, report, readingOf: (m: string) => BigInt(1000 + 111 * meterIds.indexOf(m)) };
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** Logs in as `groupId`'s aggregator, subscribed to its members' reports. */
async function attacker(t: import('ava').ExecutionContext, s: Setup, groupId: string) {
  const user = aggregatorUser(groupId);
  const client = connectRole({ url: s.d.config.broker.url, username: user, password: s.d.secrets.services[user], persistent: false });
  await connected(client);
  t.teardown(() => endClient(client));
  const captured = new Map<string, Uint8Array>();
  client.on('message', (topic, payload) => {
    const report = new Uint8Array(payload);
    const meterId = reportTopicParts(topic)!.meterId;
    const at = `${meterId}/${decodeReport(report, meterMacKey(s.d.secrets, meterId), hmacSha256).slot}`;
    if (!captured.has(at)) captured.set(at, report);
  });
  await client.subscribeAsync(groupReportsFilter(groupId), { qos: 1 });
  /** The reports of `meters` for `slot`, as the meters sent them. */
  const capture = async (slot: number, meters: string[]) => {
    s.report(slot, meters);
    await until(() => meters.every((m) => captured.has(`${m}/${slot}`)), `the reports of slot ${slot}`, 10_000);
    return new Map(meters.map((m) => [m, captured.get(`${m}/${slot}`)!]));
  };
  return { client, capture };
}

const ciphertextOf = (report: Uint8Array, under = key) => ciphertextFromBytes(under, report.subarray(26 + report[10], bodyEnd(report)));

async function publishAttack(client: MqttClient, aggregate: Aggregate, reports: Uint8Array[]) {
  await client.publishAsync(evidenceTopic(aggregate.groupId), Buffer.from(encodeEvidence({ aggregate, reports })), { qos: 1 });
  await client.publishAsync(aggregateTopic(aggregate.groupId), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });
}

/** The provider's refusal of (group, slot), once the custodians have answered; and that nothing was stored. */
async function refusedByCustodians(t: import('ava').ExecutionContext, s: Setup, groupId: string, slot: number) {
  const { provider, decrypted } = s;
  await until(
    () => provider.store.refusals(20).some((r) => r.groupId === groupId && r.slot === slot),
    `the refusal of ${groupId}/${slot}`,
    20_000,
  );
  const refusal = provider.store.refusals(20).find((r) => r.groupId === groupId && r.slot === slot)!;
  t.is(refusal.reason, 'custodians-refused');
  t.is(provider.store.series(groupId, slot), undefined, 'no total stored');
  t.deepEqual(
    decrypted.filter((x) => x.groupId === groupId && x.slot === slot),
    [],
  );
  return refusal.detail;
}

const aggregateOf = (groupId: string, slot: number, contributors: string[], ciphertext: bigint, under = key): Aggregate => ({
  groupId,
  slot,
  keyId: under.keyId,
  packed: 1,
  count: contributors.length,
  contributors: [...contributors].sort(),
  ciphertext: ciphertextToBytes(under, ciphertext),
});

test('an honest aggregator: its evidence verifies at the custodians and the total is stored; the provider cannot read the evidence, nor another group publish it', async (t) => {
  const s = await setup(t);
  const aggregator = await runAggregator(s.d.config, 'A');
  t.teardown(() => aggregator.stop());
  const login = async (user: string, clientId: string) => {
    const client = connectRole({
      url: s.d.config.broker.url,
      username: user,
      password: s.d.secrets.services[user],
      clientId,
      persistent: false,
    });
    await connected(client);
    t.teardown(() => endClient(client));
    return client;
  };
  // With the provider's credentials, a second connection asks for the contributing reports.
  const curious = await login(PROVIDER_USER, `${PROVIDER_USER}/curious`);
  const seen: string[] = [];
  curious.on('message', (topic) => seen.push(topic));
  const refused = () => s.d.refusals()!.get('subscribe-not-allowed') ?? 0;
  curious.subscribe(EVIDENCE_TOPIC_FILTER, { qos: 1 });
  await until(() => refused() === 1, "the broker's refusal of the provider's subscription", 10_000);
  const intruder = await login(aggregatorUser('B'), `${aggregatorUser('B')}/intruder`);
  intruder.publish(evidenceTopic('A'), Buffer.from('{}'), { qos: 0 });
  await until(() => (s.d.refusals()!.get('publish-not-allowed') ?? 0) === 1, "the broker's refusal of B publishing A's evidence", 10_000);

  const slot = slotAt(Date.now(), s.d.config.slotSeconds);
  const members = ['a1', 'a2', 's1', 's2'];
  s.report(slot, members);
  await until(() => s.provider.store.series('A', slot) !== undefined, "A's total", 30_000);
  t.is(
    s.provider.store.series('A', slot)!.total,
    members.reduce((sum, m) => sum + s.readingOf(m), 0n),
  );
  t.deepEqual(seen, [], 'the provider received no report');
  const kept = new Database(join(s.d.config.dataDir, 'aggregator-A.sqlite'), { readonly: true });
  t.teardown(() => kept.close());
  await until(
    () => kept.prepare('SELECT count(*) FROM seen WHERE slot = ? AND report IS NOT NULL').pluck().get(slot) === 0,
    'the reports dropped once the aggregate was published',
  );
});

test("one member's captured report, re-randomised and relabelled to another slot, with four contributors listed: refused as bad-authenticator", async (t) => {
  const s = await setup(t);
  const slot = slotAt(Date.now(), s.d.config.slotSeconds);
  const members = ['a1', 'a2', 's1', 's2'];
  const { client, capture } = await attacker(t, s, 'A');
  const genuine = (await capture(slot, ['s1'])).get('s1')!;
  const macKey = meterMacKey(s.d.secrets, 's1');
  const target = slot - 40;
  // Re-randomised, the ciphertext no longer equals the captured one; its plaintext is s1's reading.
  const c = key.rerandomize(ciphertextOf(genuine), key.precomputeRn(random));
  const fields = { ...decodeReport(genuine, macKey, hmacSha256), slot: target, ciphertext: ciphertextToBytes(key, c) };
  const relabelled = forge(fields, macKey, genuine);
  t.is(decodeReport(relabelled, macKey, hmacSha256).slot, target, "the aggregators' tag verifies: an aggregator would accept it");
  // The other contributors: encryptions of zero, sealed with the MAC keys the aggregator holds.
  const zeros = ['a1', 'a2', 's2'].map((m) =>
    forge({ ...fields, meterId: m, ciphertext: ciphertextToBytes(key, key.encrypt(0n, random)) }, meterMacKey(s.d.secrets, m), relabelled),
  );
  const reports = [...zeros.slice(0, 2), relabelled, zeros[2]];
  const product = key.arith.product(reports.map((r) => ciphertextOf(r)));
  await publishAttack(client, aggregateOf('A', target, members, product), reports);
  const detail = await refusedByCustodians(t, s, 'A', target);
  t.regex(detail, /custodian \d refused: bad-authenticator; custodian \d refused: bad-authenticator/);
});

test('genuine reports of one slot presented as another slot: refused as report-mismatch', async (t) => {
  const s = await setup(t);
  const slot = slotAt(Date.now(), s.d.config.slotSeconds);
  const members = ['a1', 'a2', 's1', 's2'];
  const { client, capture } = await attacker(t, s, 'A');
  const captured = await capture(slot, members);
  const reports = members.map((m) => captured.get(m)!);
  const target = slot - 41;
  await publishAttack(client, aggregateOf('A', target, members, key.arith.product(reports.map((r) => ciphertextOf(r)))), reports);
  const detail = await refusedByCustodians(t, s, 'A', target);
  t.regex(detail, /custodian \d refused: report-mismatch; custodian \d refused: report-mismatch/);
});

test("reports forged with shared meters' MAC keys into group B, so that B's total is b1's reading: refused as bad-authenticator", async (t) => {
  const s = await setup(t);
  const slot = slotAt(Date.now(), s.d.config.slotSeconds);
  // B's aggregator holds the MAC keys of s1 and s2, which A's aggregator holds too: nothing in the
  // aggregators' tag tells a report the meter made from one an aggregator made.
  const { client, capture } = await attacker(t, s, 'B');
  const genuine = (await capture(slot, ['b1'])).get('b1')!;
  const fields = decodeReport(genuine, meterMacKey(s.d.secrets, 'b1'), hmacSha256);
  const forged = ['b2', 's1', 's2'].map((m) =>
    forge({ ...fields, meterId: m, ciphertext: ciphertextToBytes(key, key.encrypt(0n, random)) }, meterMacKey(s.d.secrets, m), genuine),
  );
  const reports = [genuine, ...forged];
  await publishAttack(
    client,
    aggregateOf('B', slot, ['b1', 'b2', 's1', 's2'], key.arith.product(reports.map((r) => ciphertextOf(r)))),
    reports,
  );
  const detail = await refusedByCustodians(t, s, 'B', slot);
  t.regex(detail, /custodian \d refused: bad-authenticator; custodian \d refused: bad-authenticator/);
});

test('a contributor list that does not match the reports: one report for four contributors refused as contributors-mismatch, four reports for one ciphertext as product-mismatch', async (t) => {
  const s = await setup(t);
  const slot = slotAt(Date.now(), s.d.config.slotSeconds);
  const members = ['a1', 'a2', 's1', 's2'];
  const { client, capture } = await attacker(t, s, 'A');
  const one = (await capture(slot, members)).get('a1')!;
  await publishAttack(client, aggregateOf('A', slot, members, ciphertextOf(one)), [one]);
  const detail = await refusedByCustodians(t, s, 'A', slot);
  t.regex(detail, /custodian \d refused: contributors-mismatch; custodian \d refused: contributors-mismatch/);

  const next = slot + 1;
  const nextReports = await capture(next, members);
  const reports = members.map((m) => nextReports.get(m)!);
  await publishAttack(client, aggregateOf('A', next, members, ciphertextOf(nextReports.get('a1')!)), reports);
  const second = await refusedByCustodians(t, s, 'A', next);
  t.regex(second, /custodian \d refused: product-mismatch; custodian \d refused: product-mismatch/);
});

test('single-key mode, the documented limit: the same relabelled report is decrypted as a total, since nobody but the aggregator vouches for the product', async (t) => {
  const s = await setup(t, 'single');
  const single = s.d.publicKey;
  const slot = slotAt(Date.now(), s.d.config.slotSeconds);
  const { client, capture } = await attacker(t, s, 'A');
  const genuine = (await capture(slot, ['s1'])).get('s1')!;
  const target = slot - 40;
  const c = single.rerandomize(ciphertextOf(genuine, single), single.precomputeRn(random));
  const aggregate = aggregateOf('A', target, ['a1', 'a2', 's1', 's2'], c, single);
  await client.publishAsync(aggregateTopic('A'), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });
  await until(() => s.provider.store.series('A', target) !== undefined, 'the relabelled report decrypted', 20_000);
  t.is(s.provider.store.series('A', target)!.total, s.readingOf('s1'), "s1's reading, stored as A's total");
});
