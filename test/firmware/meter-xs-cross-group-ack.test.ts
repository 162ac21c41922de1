/**
 * Attack: one group's aggregator acknowledges a shared meter's report for another group. The
 * firmware runs in XS against a real broker; the meter is in groups g1 and g2. Whoever holds what
 * provisioning gives g1's aggregator (the meter's MAC key and its g1 acknowledgement key) claims
 * to be g2 with each of those keys: the meter refuses both, keeps the report, and still hands it
 * to g2, whose own acknowledgement is the one that lets it go. The meter publishes the report on
 * each group's topic, and resends it only on the topics of groups that have not acknowledged it.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { deriveAckKey } from '../../firmware/protocol/meter-keys.ts';
import { AckStatus, ackTopic, encodeAck } from '../../firmware/protocol/report.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { until } from '../helpers/poll.ts';
import { drain, startXsMeter } from './helpers/fleet.ts';

const START = Date.UTC(2026, 9, 7, 17, 0, 0);
const SLOT_MS = 60_000;

test("g1's keys cannot acknowledge for g2: the meter keeps the report until g2 itself acknowledges", async (t) => {
  const { publicKey } = testKeyPair();
  const { broker, config, collector, fleet } = await startXsMeter(t, publicKey, START, { groups: ['g1', 'g2'] });
  collector.acking = false;
  await fleet.advanceTo(START + SLOT_MS);
  await until(() => collector.reports.length >= 2, 'the first report, once per group');
  const report = collector.reports[0];
  t.deepEqual(collector.groupsOfReports.slice(0, 2).sort(), ['g1', 'g2'], "on each group's topic");
  t.is((await fleet.stats(config.meterId)).outboxSize, 1);

  const g1Keys = { macKey: config.macKey, ackKey: deriveAckKey(config.deviceKey, 'g1', hmacSha256) };
  const ack = (groupId: string, key: Uint8Array) =>
    Buffer.from(
      encodeAck({ meterId: config.meterId, groupId, slot: report.slot, seq: report.seq, status: AckStatus.stored }, key, hmacSha256),
    );
  const g1 = await mqtt.connectAsync(broker.url, { clientId: 'aggregator.g1' });
  t.teardown(() => g1.endAsync(true));
  await g1.publishAsync(ackTopic(config.meterId), ack('g1', g1Keys.ackKey), { qos: 1 });
  await g1.publishAsync(ackTopic(config.meterId), ack('g2', g1Keys.ackKey), { qos: 1 });
  await g1.publishAsync(ackTopic(config.meterId), ack('g2', g1Keys.macKey), { qos: 1 });

  const afterAttack = await until(async () => {
    await fleet.settle();
    const stats = await fleet.stats(config.meterId);
    return Object.values(stats.acksRejected).reduce((a, b) => a + b, 0) >= 2 && stats;
  }, 'the forged acknowledgements to reach the meter');
  // The legitimate g1 acknowledgement went out first on the same connection: it has arrived too.
  t.deepEqual(afterAttack.acksRejected, { 'bad-mac': 2 }, 'both forged g2 acknowledgements are refused');
  t.is(afterAttack.outboxSize, 1, 'the report is kept for g2');
  t.is(afterAttack.reportsAcknowledged, 0);

  // g2's aggregator (here the collector, acknowledging with each group's own key) still receives it.
  const before = collector.reports.length;
  collector.acking = true;
  await fleet.advanceTo(START + SLOT_MS + config.ackTimeoutSeconds * 1000);
  await drain(fleet);
  t.true(collector.reports.length > before, 'the report was sent again');
  t.true(collector.reports.slice(before).some((r) => r.slot === report.slot && r.seq === report.seq));
  const resentTo = collector.reports.flatMap((r, i) => (i >= before && r.slot === report.slot ? [collector.groupsOfReports[i]] : []));
  t.deepEqual([...new Set(resentTo)], ['g2'], 'sent again to g2 only: g1 had acknowledged it');
  const after = await fleet.stats(config.meterId);
  t.is(after.outboxSize, 0);
  t.is(after.reportsAcknowledged, after.reportsCreated, 'every report, the first one included, was let go on acknowledgement');
});
