/**
 * Late reports through the real aggregator and provider over the embedded broker: the aggregator
 * waits up to latenessSeconds for members that have not reported, so a straggler still counts; a
 * slot still short of 1..k-1 members then is suppressed by name (its feeder reading would give
 * their sum away), never reaches the provider, and is counted in the aggregator's status, which the
 * provider's API shows; a slot that every member reported closes at once.
 */
import test from 'ava';
import { AckStatus } from '../../firmware/protocol/report.ts';
import Database from 'better-sqlite3';
import { aggregatorStorePath, runAggregator } from '../../host/aggregator/run.ts';
import type { SlotClosed } from '../../host/aggregator/aggregator.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { runProvider } from '../../host/provider/run.ts';
import { slotAt, slotEndMs, watermarkMs } from '../../host/protocol/slots.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { aggregatorUser } from '../../host/config/identities.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { aggregatorStatusTopic } from '../../host/protocol/topics.ts';
import { getJson } from './support/probe.ts';

const sleepUntil = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));

test('a straggler inside the lateness counts in its slot; a slot short of fewer than k members after it is suppressed by name; later slots work', async (t) => {
  const members = ids('m', 6);
  const d = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 3 }],
    // The outage bound at the lateness: a short slot waits no longer than its watermark.
    extra: { slotSeconds: 2, latenessSeconds: 8, outageSeconds: 8 },
  });
  t.teardown(() => d.cleanup());
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const closed: (SlotClosed & { at: number })[] = [];
  const aggregator = await runAggregator(d.config, 'street', { onSlotClosed: (e) => closed.push({ ...e, at: Date.now() }) });
  t.teardown(() => aggregator.stop());
  const punctual = await Promise.all(members.slice(0, 5).map((m) => d.meter(m, ['street'])));
  // No resend before its refusal comes back, even on a loaded machine: the refusal is counted once.
  const late = await d.meter(members[5], ['street'], { resendMs: 60_000 });
  const meters = [...punctual, late];
  const { config } = d;

  // Slot s: five members on time, the sixth two seconds after the slot's end.
  const s = slotAt(Date.now(), config.slotSeconds);
  await Promise.all(punctual.map((m, i) => m.report(s, [BigInt(10 + i)])));
  await sleepUntil(slotEndMs(s, config.slotSeconds) + 2000);
  t.true(Date.now() < watermarkMs(s + 1, config), 'the test runs ahead of the next watermark');
  // Slot s + 1: the same five on time; the sixth never within the lateness.
  await Promise.all([late.report(s, [100n]), ...punctual.map((m, i) => m.report(s + 1, [BigInt(20 + i)]))]);
  t.true(
    late.acks.some((a) => a.slot === s && a.status === AckStatus.stored),
    'the straggler is stored',
  );
  await until(() => decrypted.some((x) => x.slot === s), 'slot s decrypted', 15_000);
  const first = decrypted.find((x) => x.slot === s)!;
  t.is(first.count, 6);
  t.is(first.total, 10n + 11n + 12n + 13n + 14n + 100n);

  await until(() => closed.some((e) => e.slot === s + 1), 'slot s + 1 closed', 20_000);
  const short = closed.find((e) => e.slot === s + 1)!;
  t.like(short, { state: 'suppressed', reason: 'members-missing', count: 5 });
  t.true(short.at >= watermarkMs(s + 1, config), 'a short slot waits for its watermark');
  await late.report(s + 1, [100n]);
  t.true(
    late.acks.some((a) => a.slot === s + 1 && a.status === AckStatus.refused),
    'too late: refused, so the meter lets it go',
  );
  t.is(aggregator.aggregator.rejections.toJSON()['slot-too-old'], 1);
  t.deepEqual(aggregator.aggregator.status().suppressed, { 'members-missing': 1 });
  const file = new Database(aggregatorStorePath(config, 'street'), { readonly: true });
  t.teardown(() => file.close());
  const kept = (slot: number) => file.prepare('SELECT count(*) FROM seen WHERE slot = ? AND report IS NOT NULL').pluck().get(slot);
  t.is(kept(s + 1), 0, 'the suppressed slot keeps none of its reports');
  // The provider's API shows the aggregator's counts from its status topic.
  const api = async (path: string) => (await getJson(`${provider.apiUrl}${path}`)).body;
  await until(
    async () => (await api('/api/aggregators'))[0].rejections?.['slot-too-old'] === 1,
    'the aggregator status in the API',
    10_000,
  );
  t.like((await api('/api/aggregators'))[0], { groupId: 'street', suppressed: { 'members-missing': 1 } });
  t.is((await api('/api/health')).suppressed, 1);
  // A status that is not one (published with the aggregator's login) is counted and changes nothing.
  const user = aggregatorUser('street');
  const forger = connectRole({
    url: config.broker.url,
    username: user,
    clientId: `${user}/status`,
    password: d.secrets.services[user],
    persistent: false,
  });
  await connected(forger);
  t.teardown(() => endClient(forger));
  const forged = { groupId: 'street', accepted: -1, openSlots: [], rejections: {}, suppressed: {} };
  await forger.publishAsync(aggregatorStatusTopic('street'), JSON.stringify(forged), { qos: 1 });
  await until(() => provider.provider.counts.totals.get('status-malformed') === 1, 'the forged status counted', 10_000);
  t.like((await api('/api/aggregators'))[0], { suppressed: { 'members-missing': 1 } });

  // A later slot that every member reports is published as soon as the last report is stored.
  const next = slotAt(Date.now(), config.slotSeconds);
  await Promise.all(meters.map((m, i) => m.report(next, [BigInt(30 + i)])));
  await until(() => decrypted.some((x) => x.slot === next), 'the later slot decrypted', 15_000);
  t.is(decrypted.find((x) => x.slot === next)!.total, 30n + 31n + 32n + 33n + 34n + 35n);
  // Reported at the broker's PUBACK, which may come after the provider has the aggregate.
  const published = await until(() => closed.find((e) => e.slot === next), 'the later slot published', 15_000);
  t.true(published.at < watermarkMs(next, config), 'a complete slot closes before its watermark');

  // The short slot never reached the provider: not decrypted, not even refused there.
  t.false(decrypted.some((x) => x.slot === s + 1));
  t.deepEqual(
    provider.store.refusals(100).filter((r) => r.slot === s + 1),
    [],
  );
  t.deepEqual(
    provider.store.seriesRange('street', s, next + 1).map((r) => r.slot),
    [s, next],
  );
});
