/**
 * Storage stays bounded (docs/pipeline.md "Retention"): the real aggregator and provider over the
 * embedded broker, with their SQLite files, 2-second slots, a short horizon and a virtual clock
 * that runs 120 slots in a few seconds, while the background collection runs every second and
 * once more by hand during ingest. Every table the retention covers stays bounded; duplicates,
 * replays and second decryptions inside the window are refused by their records, and outside it
 * by the horizon (the record is gone, the refusal stays); no report is lost to collection; the
 * decrypted series is kept, old slots folded into coarse ones with the same totals.
 * Cheap in CPU by design, since the subject is the records and not the crypto: the 2048-bit key
 * is a committed fixture, and the test meters take one r^n for every report (a real meter never
 * reuses randomness).
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { AckStatus } from '../../firmware/protocol/report.ts';
import { aggregatorStorePath, runAggregator } from '../../host/aggregator/run.ts';
import { seenRetentionSeconds } from '../../host/aggregator/retention.ts';
import { collectRole } from '../../host/gc/cli.ts';
import { COLLECTION_MARGIN_SECONDS } from '../../host/policy/horizon.ts';
import { decodeAggregate, encodeAggregate } from '../../host/protocol/aggregate.ts';
import { slotAt, slotStartMs } from '../../host/protocol/slots.ts';
import { aggregateTopic } from '../../host/protocol/topics.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { providerStorePath, runProvider } from '../../host/provider/run.ts';
import { deploy, ids, TEST_API_TOKEN } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { samples, scrape, value } from '../helpers/prometheus.ts';
import { getJson } from './support/probe.ts';

const SLOTS = 120;
const SLOT_SECONDS = 2;

test('with short slots and a short horizon every table stays bounded over 120 slots; refusals inside the window by record, outside by the horizon; collection during ingest loses nothing', async (t) => {
  t.timeout(120_000, '120 slots one after the other, each a round trip through the broker to the provider (about 20 s on an idle machine)');
  const pair = testKeyPair(0);
  const members = ids('m', 4);
  const d = await deploy({
    keyPair: pair,
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }],
    extra: {
      slotSeconds: SLOT_SECONDS,
      latenessSeconds: 2,
      // The outage bound at the lateness: the acceptance horizon the collection follows.
      outageSeconds: 2,
      skewSeconds: 1,
      retention: {
        horizonSeconds: 10,
        refusalsSeconds: 20,
        alertsSeconds: 20,
        collectSeconds: 1,
        batchRows: 7,
        downsample: { afterSeconds: 20, slots: 5 },
      },
    },
  });
  t.teardown(() => d.cleanup());
  const { config } = d;
  // A multiple of five: the run covers whole coarse slots.
  const first = slotAt(Date.now(), SLOT_SECONDS) - 10 * SLOTS - (slotAt(Date.now(), SLOT_SECONDS) % 5);
  let clock = slotStartMs(first, SLOT_SECONDS);
  const now = () => clock;

  const decrypted = new Map<number, Decrypted>();
  const provider = await runProvider(config, { now, onDecrypted: (x) => decrypted.set(x.slot, x) });
  t.teardown(() => provider.stop());
  const aggregator = await runAggregator(config, 'street', { now });
  t.teardown(() => aggregator.stop());
  // Test-only: one r^n for every report of every meter (the records are the subject, not the crypto).
  const rn = pair.publicKey.precomputeRn((n) => new Uint8Array(randomBytes(n)));
  const meters = await Promise.all(members.map((m) => d.meter(m, ['street'], { rn: () => rn, resendMs: 60_000 })));

  const aggregatorFile = new Database(aggregatorStorePath(config, 'street'), { readonly: true });
  const providerFile = new Database(providerStorePath(config), { readonly: true });
  t.teardown(() => {
    aggregatorFile.close();
    providerFile.close();
  });
  const rows = (db: Database.Database, table: string) => db.prepare(`SELECT count(*) FROM ${table}`).pluck().get() as number;
  const census = () => ({
    seen: rows(aggregatorFile, 'seen'),
    slots: rows(aggregatorFile, 'slots'),
    series: rows(providerFile, 'series'),
    series_coarse: rows(providerFile, 'series_coarse'),
    series_parts: rows(providerFile, 'series_parts'),
    reservations: rows(providerFile, 'reservations'),
    refusals: rows(providerFile, 'refusals'),
    alerts: rows(providerFile, 'alerts'),
  });
  // Slots whose records may be kept at any time: the retention and its margin, the slot in progress,
  // and the slots since the last collection (the virtual clock runs far faster than the background
  // one, so the collection by hand every tenth slot is what bounds them here).
  const between = 10;
  const seenWindow = Math.ceil((seenRetentionSeconds(config) + COLLECTION_MARGIN_SECONDS) / SLOT_SECONDS) + 2 + between;
  const horizonWindow = Math.ceil((config.retention.horizonSeconds + COLLECTION_MARGIN_SECONDS) / SLOT_SECONDS) + 2 + between;

  const sent = new Map<number, Uint8Array[]>();
  const aggregates = new Map<number, Uint8Array>();
  const expected = (slot: number, i: number) => BigInt((slot % 7) * 10 + i);
  const start = census();
  let largest = start;
  const replayAck = async (slot: number) => {
    await meters[0].send(slot, sent.get(slot)![0]);
    return meters[0].acks.at(-1)!;
  };

  for (let slot = first; slot < first + SLOTS; slot++) {
    clock = slotStartMs(slot, SLOT_SECONDS) + 500;
    const messages = meters.map((m, i) => m.encode(slot, [expected(slot, i)]));
    sent.set(slot, messages);
    // Every tenth slot a collection by hand runs while the slot's reports come in.
    const collecting = slot % between === 0 ? Promise.all([aggregator.collector.collect(), provider.collector.collect()]) : undefined;
    await Promise.all(meters.map((m, i) => m.send(slot, messages[i])));
    await collecting;
    await until(() => decrypted.has(slot), `slot ${slot} decrypted`, 10_000);
    aggregates.set(slot, aggregatorFile.prepare('SELECT message FROM slots WHERE slot = ?').pluck().get(slot) as Uint8Array);
    const now = census();
    largest = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, Math.max(v, largest[k as keyof typeof largest])])) as typeof now;

    if (slot === first + 60) {
      // Inside the window: the records refuse a replayed report and a second aggregate.
      const recent = slot - 3;
      t.is((await replayAck(recent)).status, AckStatus.duplicate, 'a replay inside the window is a duplicate');
      const forged = decodeAggregate(aggregates.get(recent)!);
      provider.provider.receive(
        aggregateTopic('street'),
        encodeAggregate({ ...forged, contributors: forged.contributors.slice(0, 3), count: 3 }),
      );
      // Outside it: the records are gone, and the horizon refuses by time.
      const old = first + 5;
      t.is(aggregatorFile.prepare('SELECT count(*) FROM seen WHERE slot = ?').pluck().get(old), 0, 'its seen rows were collected');
      t.is(providerFile.prepare('SELECT count(*) FROM series_parts WHERE slot = ?').pluck().get(old), 0, 'its part was collected');
      t.is((await replayAck(old)).status, AckStatus.refused, 'a replay outside the window is refused');
      const oldAggregate = decodeAggregate(aggregates.get(old)!);
      provider.provider.receive(
        aggregateTopic('street'),
        encodeAggregate({ ...oldAggregate, contributors: oldAggregate.contributors.slice(0, 3), count: 3 }),
      );
      const reasons = (
        providerFile.prepare('SELECT slot, reason FROM refusals ORDER BY id').all() as { slot: number; reason: string }[]
      ).map((r) => `${r.slot - first}:${r.reason}`);
      t.deepEqual(reasons, [`57:already-decrypted`, `5:beyond-horizon`]);
      t.is(aggregator.aggregator.rejections.toJSON()['slot-too-old'], 1);
      t.is(aggregator.aggregator.rejections.toJSON()['duplicate'], 1);
    }
  }

  // Nothing lost: every slot decrypted once, with all four members and its exact total.
  t.is(decrypted.size, SLOTS);
  for (const [slot, x] of decrypted) {
    t.is(x.count, 4);
    t.is(
      x.total,
      members.reduce((sum, _, i) => sum + expected(slot, i), 0n),
    );
  }
  t.true(aggregator.collector.total.seen > 0 && provider.collector.total.series_parts > 0, 'collection ran');
  // An operator sees it in the metrics: rows forgotten by table, and the file's size. Read after a
  // whole collection at the final clock (the first call may join one begun before it), which
  // leaves nothing for a later one.
  for (let i = 0; i < 2; i++) await Promise.all([aggregator.collector.collect(), provider.collector.collect()]);
  const scraped = await scrape(`${provider.apiUrl}/metrics`, TEST_API_TOKEN);
  t.is(value(scraped, 'meterveil_collected_rows_total', { table: 'series_parts' }), provider.collector.total.series_parts);
  t.true(value(scraped, 'meterveil_store_bytes') > 0);
  const aggregatorMetrics = samples(await aggregator.metrics.metrics());
  t.is(value(aggregatorMetrics, 'meterveil_collected_rows_total', { table: 'seen' }), aggregator.collector.total.seen);

  const end = census();
  t.log('rows at start', JSON.stringify(start), 'at end', JSON.stringify(end), 'largest', JSON.stringify(largest));
  t.true(largest.seen <= members.length * seenWindow, `seen stays within ${seenWindow} slots (${largest.seen} rows)`);
  t.true(largest.slots <= seenWindow, `slots stays within ${seenWindow} slots (${largest.slots})`);
  t.true(largest.series_parts <= horizonWindow, `series_parts stays within ${horizonWindow} slots (${largest.series_parts})`);
  t.true(largest.series <= horizonWindow + 5, `series, downsampled, stays within ${horizonWindow + 5} slots (${largest.series})`);
  // The product is kept: fine where recent, folded into coarse slots of five where old, same totals
  // (read after a collection, so that none folds a slot between the two requests).
  await provider.collector.collect();
  const all = (
    await getJson(
      `${provider.apiUrl}/api/groups/street/series?from=${slotStartMs(first, SLOT_SECONDS) / 1000}&to=${slotStartMs(first + SLOTS, SLOT_SECONDS) / 1000}`,
    )
  ).body.series as { total: string }[];
  const coarse = (
    await getJson(
      `${provider.apiUrl}/api/groups/street/coarse?from=${slotStartMs(first, SLOT_SECONDS) / 1000}&to=${slotStartMs(first + SLOTS, SLOT_SECONDS) / 1000}`,
    )
  ).body;
  t.like(coarse, { groupId: 'street', slots: 5 });
  const coarseRows = coarse.coarse as { slots: number; decrypted: number; total: string }[];
  t.is(coarseRows.reduce((n, r) => n + r.decrypted, 0) + all.length, SLOTS, 'every slot, fine or folded');
  const everything = [...decrypted.values()].reduce((sum, x) => sum + x.total, 0n);
  t.is(
    [...all, ...coarseRows].reduce((sum, r) => sum + BigInt(r.total), 0n),
    everything,
    'the same total',
  );

  // A final collection by hand (`meterveil gc`) after the clock moved past the refusals' span.
  clock += (config.retention.refusalsSeconds + 1) * 1000;
  await aggregator.stop();
  await provider.stop();
  const gcNow = () => clock + (COLLECTION_MARGIN_SECONDS + 60) * 1000;
  const [agg] = await collectRole(config, 'aggregator', {}, gcNow);
  const [prov] = await collectRole(config, 'provider', {}, gcNow);
  t.true(agg.collected.seen > 0 && prov.collected.series_parts > 0, JSON.stringify({ agg, prov }));
  t.like(census(), { seen: 0, slots: 0, series_parts: 0, refusals: 0, series: 0, series_coarse: SLOTS / 5 });
  t.true(agg.pagesAfter < agg.pagesBefore, `the aggregator's file shrank (${agg.pagesBefore} -> ${agg.pagesAfter} pages)`);
});
