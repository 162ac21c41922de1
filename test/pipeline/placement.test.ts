/**
 * Aggregators placed by config: host a runs two groups over one connection; then a host b is added
 * and group south moves to it between slots. Its store moves with it (one process at a time holds
 * it), the reports queued for it in a's session are refused there and sent again by the meters to
 * b, and every slot of both groups is decrypted once, with every member, before and after.
 */
import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AckStatus } from '../../firmware/protocol/report.ts';
import { runAggregatorHost } from '../../host/aggregator/run.ts';
import { sessionTopicsPath } from '../../host/aggregator/session-topics.ts';
import { groupReportsFilter } from '../../host/protocol/topics.ts';
import { loadConfig } from '../../host/config/load.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { runProvider } from '../../host/provider/run.ts';
import { slotAt, slotStartMs } from '../../host/protocol/slots.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

const sleepUntil = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms - Date.now())));

test('a group moved to an added aggregator host between slots: every slot of both groups decrypted once, with every member', async (t) => {
  const north = ids('n', 3);
  const south = ids('s', 3);
  const d = await deploy({
    groups: [
      { id: 'north', members: north, feeder: 'feeder-north', k: 2 },
      { id: 'south', members: south, feeder: 'feeder-south', k: 2 },
    ],
    extra: { slotSeconds: 2, latenessSeconds: 6, outageSeconds: 30, aggregators: { a: ['north', 'south'] } },
  });
  t.teardown(() => d.cleanup());
  const raw = JSON.parse(readFileSync(d.configPath, 'utf8')) as Record<string, unknown>;
  const movedPath = join(d.dir, 'moved.json');
  writeFileSync(movedPath, JSON.stringify({ ...raw, aggregators: { a: ['north'], b: ['south'] } }));
  const moved = loadConfig(movedPath);

  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const before = await runAggregatorHost(d.config, 'a');
  let stopBefore: (() => Promise<void>) | undefined = () => before.stop();
  t.teardown(() => stopBefore?.());
  const meters = new Map(
    await Promise.all([...north, ...south].map(async (m) => [m, await d.meter(m, [m.startsWith('n') ? 'north' : 'south'])] as const)),
  );
  const reading = (m: string, slot: number) => BigInt(slot % 1000) * 10n + BigInt(m.slice(1));
  const report = (slot: number) => Promise.all([...meters].map(([m, meter]) => meter.report(slot, [reading(m, slot)])));

  const s = slotAt(Date.now(), d.config.slotSeconds) + 1;
  await sleepUntil(slotStartMs(s, d.config.slotSeconds));
  await report(s);
  await until(() => decrypted.filter((x) => x.slot === s).length === 2, 'slot s decrypted for both groups', 20_000);

  // The move: a stops; south's meters report slot s + 1 while no process runs south (a's session
  // queues those reports); the broker takes the new placement's permissions; b starts with south
  // and its store, a comes back with north alone.
  await before.stop();
  stopBefore = undefined;
  await sleepUntil(slotStartMs(s + 1, d.config.slotSeconds));
  const reported = report(s + 1);
  await new Promise((r) => setTimeout(r, 500));
  await d.reloadBroker(moved);
  const b = await runAggregatorHost(moved, 'b');
  t.teardown(() => b.stop());
  // a restarted with the old placement would run south a second time: refused while b holds its store.
  const stale = await t.throwsAsync(runAggregatorHost(d.config, 'a'));
  t.is((stale as { reason?: string }).reason, 'store-in-use');
  const a = await runAggregatorHost(moved, 'a');
  t.teardown(() => a.stop());
  t.deepEqual(
    a.aggregators.map((x) => x.groupId),
    ['north'],
  );
  t.deepEqual(
    b.aggregators.map((x) => x.groupId),
    ['south'],
  );
  await reported;
  await until(() => decrypted.filter((x) => x.slot === s + 1).length === 2, 'slot s + 1 decrypted for both groups', 20_000);
  const queuedAtA = a.aggregators[0].rejections.toJSON()['unexpected-topic'] ?? 0;
  t.true(queuedAtA >= 1, "south's reports queued in a's session are refused there, not counted");
  t.deepEqual(JSON.parse(readFileSync(sessionTopicsPath(d.config.dataDir, 'a'), 'utf8')).topics, [groupReportsFilter('north')]);
  t.true(existsSync(sessionTopicsPath(d.config.dataDir, 'b')));

  // South's store came along: its slot s is known at b, a resend of it answered duplicate.
  const resent = meters.get('s1')!;
  await resent.report(s, [7n]);
  t.true(resent.acks.some((x) => x.slot === s && x.groupId === 'south' && x.status === AckStatus.duplicate));

  await sleepUntil(slotStartMs(s + 2, d.config.slotSeconds));
  await report(s + 2);
  await until(
    () => decrypted.filter((x) => x.slot === s + 2).length === 2,
    `slot s + 2 decrypted for both groups (${JSON.stringify(decrypted.map((x) => [x.groupId, x.slot - s]))})`,
    20_000,
  );
  t.is(a.aggregators[0].rejections.toJSON()['unexpected-topic'] ?? 0, queuedAtA, 'a unsubscribed from south: nothing more arrives there');

  for (const slot of [s, s + 1, s + 2]) {
    for (const [group, members] of [
      ['north', north],
      ['south', south],
    ] as const) {
      const found = decrypted.filter((x) => x.slot === slot && x.groupId === group);
      t.is(found.length, 1, `${group} slot ${slot - s} decrypted once`);
      t.is(found[0].count, members.length);
      t.is(
        found[0].total,
        members.reduce((sum, m) => sum + reading(m, slot), 0n),
      );
    }
  }
});
