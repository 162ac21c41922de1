/**
 * No loss through outages, in real time, with meters publishing as the device does: the firmware
 * in XS, whose port publishes at QoS 1 and never retransmits at the MQTT level (as the Moddable
 * client, which ignores PUBACK), keeping each report in its outbox until the aggregator's
 * acknowledgement and sending it again every ackTimeoutSeconds. The aggregator is stopped for 30 s
 * and for 5 minutes, the broker restarted, and a meter cut off from its network for longer than
 * the lateness, on the embedded broker (aedes) and on Debian's mosquitto, and on a three-node NATS
 * cluster the node every party dials first killed mid-slot: every slot is decrypted once, with
 * every member in it.
 *
 * The scenarios run at once (one ava slot for the file) and idle most of the time: three meters,
 * 5 s slots, 20 s for the long outage (15 slots: the broker holds them all, though the meter's
 * outbox of a 2048-bit key with its comb table holds 10). Reports queue at the broker for the aggregator's persistent session while it is
 * away (and, from the outboxes, their resends); when it is back it takes that backlog before it
 * closes any slot (host/aggregator/backlog.ts).
 */
import test, { type ExecutionContext } from 'ava';
import { reportTopic } from '../../firmware/protocol/report.ts';
import type { SlotClosed } from '../../host/aggregator/aggregator.ts';
import { BacklogMarker } from '../../host/aggregator/backlog.ts';
import { runAggregator, type RunningAggregator } from '../../host/aggregator/run.ts';
import { queuedMessagesBound } from '../../host/broker/mosquitto.ts';
import { aggregatorUser, meterUser } from '../../host/config/identities.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { runProvider } from '../../host/provider/run.ts';
import { slotAt, watermarkMs } from '../../host/protocol/slots.ts';
import { backlogTopic, groupReportsFilter, reportTopicParts } from '../../host/protocol/topics.ts';
import { brokerConnection } from '../../host/tls/files.ts';
import { meterConfigs } from '../../host/start/fleet.ts';
import { deploy, ids, type BrokerKind } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { startWallClockFleet } from './support/wall-clock-fleet.ts';

/** The meters' resend period; the lateness covers one resend, as the default does for 60 s. */
const ACK_TIMEOUT_SECONDS = 15;
const LATENESS_SECONDS = 2 + ACK_TIMEOUT_SECONDS;
const MEMBERS = 3;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Outage {
  /**
   * What goes away: the aggregator (stopped, then started on its store), the broker (restarted),
   * one meter's network, or (NATS) the cluster node every party dials first, killed mid-slot.
   */
  kind: 'aggregator' | 'broker' | 'wifi' | 'node';
  downMs: number;
  slotSeconds: number;
  /**
   * Broker: the aggregator is stopped with it and started this long after it is back, when the
   * meters have reconnected and replayed their outboxes (a role on a slower reconnect backoff).
   */
  aggregatorLaterMs?: number;
}

async function scenario(t: ExecutionContext, broker: BrokerKind, outage: Outage): Promise<void> {
  const SLOT_SECONDS = outage.slotSeconds;
  const members = ids('m', MEMBERS);
  const d = await deploy({
    // k = every member: a slot missing any waits for it up to the outage bound, so a meter that a
    // loaded machine holds back past the lateness delays its slot instead of costing it.
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: MEMBERS }],
    broker,
    extra: { slotSeconds: SLOT_SECONDS, latenessSeconds: LATENESS_SECONDS, skewSeconds: 2, outageSeconds: 600 },
    mosquitto: {
      maxQueuedMessages: queuedMessagesBound({ largestSessionMeters: MEMBERS, groups: 1 }, SLOT_SECONDS, 600, ACK_TIMEOUT_SECONDS),
      persistence: true,
    },
  });
  t.teardown(() => d.cleanup());
  const decrypted: Decrypted[] = [];
  const provider = await runProvider(d.config, { onDecrypted: (x) => decrypted.push(x) });
  t.teardown(() => provider.stop());
  const closed: SlotClosed[] = [];
  const start = () => runAggregator(d.config, 'street', { onSlotClosed: (e) => closed.push(e) });
  let aggregator: RunningAggregator | undefined = await start();
  t.teardown(() => aggregator?.stop());

  const configs = meterConfigs(d.config, d.publicKey, d.secrets).map((c) => ({
    ...c,
    ackTimeoutSeconds: ACK_TIMEOUT_SECONDS,
    reconnectMaxMs: 4000,
  }));
  const { fleet, first } = await startWallClockFleet(t, configs, SLOT_SECONDS, MEMBERS);
  // A slot through the running pipeline first.
  await until(() => decrypted.length >= 1, 'a slot before the outage', 60_000);

  const downAt = Date.now();
  let failover = '';
  if (outage.kind === 'aggregator') {
    await aggregator.stop();
    aggregator = undefined;
    await sleep(outage.downMs);
    aggregator = await start();
  } else if (outage.kind === 'broker') {
    if (outage.aggregatorLaterMs !== undefined) {
      await aggregator.stop();
      aggregator = undefined;
    }
    await d.restartBroker(outage.downMs);
    if (outage.aggregatorLaterMs !== undefined) {
      await sleep(outage.aggregatorLaterMs);
      aggregator = await start();
    }
  } else if (outage.kind === 'node') {
    // Mid-slot: the reports of the slot before went out on it, some acknowledged, some maybe not.
    const slotMs = SLOT_SECONDS * 1000;
    await sleep(slotMs - (Date.now() % slotMs) + slotMs / 2);
    const killed = slotAt(Date.now(), SLOT_SECONDS);
    const killedAt = Date.now();
    await d.killNode(0);
    // The parties move to the other nodes: the killed slot goes through without its node. NATS
    // takes a few seconds to elect new leaders for the streams and consumers the node led, and a
    // connection meanwhile is refused, so the meters retry with their backoff.
    await until(() => decrypted.some((x) => x.slot >= killed), `slot ${killed} decrypted while its node is down`, outage.downMs);
    failover = `slot ${killed} decrypted ${((Date.now() - killedAt) / 1000).toFixed(1)} s after its node was killed, `;
    await sleep(SLOT_SECONDS * 1000);
    await d.startNode(0);
  } else {
    fleet.loseNetwork(members[2]);
    await sleep(outage.downMs);
    fleet.restoreNetwork(members[2]);
  }
  const upAt = Date.now();
  // Slots whose watermark passed during the outage: before, their reports were refused as too old
  // (the aggregator away), or the slots suppressed as members-missing (a meter away).
  const overdue = Array.from({ length: slotAt(upAt, SLOT_SECONDS) - first + 1 }, (_, i) => first + i).filter(
    (s) => watermarkMs(s, d.config) > downAt && watermarkMs(s, d.config) <= upAt,
  );
  if (outage.kind === 'aggregator' || outage.kind === 'wifi')
    t.true(overdue.length >= Math.floor(outage.downMs / 1000 / SLOT_SECONDS) - 4, `${overdue.length} slots overdue`);

  // Every slot up to the one after the return, decrypted.
  const last = slotAt(upAt, SLOT_SECONDS) + 1;
  await until(
    () => decrypted.some((x) => x.slot >= last),
    `slot ${last} decrypted`,
    (LATENESS_SECONDS + 4 * SLOT_SECONDS) * 1000 + 60_000,
    () => `; decrypted ${decrypted.map((x) => `${x.slot}:${x.count}`).join(' ')}`,
  );
  const from = Math.min(...decrypted.map((x) => x.slot));
  t.true(from <= first + 1, `the meters' first whole slot ${from} is counted`);
  for (let slot = from; slot <= last; slot++) {
    const of = decrypted.filter((x) => x.slot === slot);
    const at = closed.filter((e) => e.slot === slot).map((e) => `${e.state} ${e.reason ?? ''} ${e.count}`);
    t.is(of.length, 1, `slot ${slot} decrypted once (closed: ${at.join(', ') || 'no'})`);
    t.is(of[0]?.count, MEMBERS, `slot ${slot} has every member`);
  }
  t.deepEqual(
    closed.filter((e) => e.state !== 'published'),
    [],
    'no slot suppressed',
  );
  t.deepEqual(
    provider.store.refusals(100).map((r) => r.reason),
    [],
  );
  const rejections = aggregator!.aggregator.rejections.toJSON();
  t.deepEqual(
    Object.keys(rejections).filter((r) => r !== 'duplicate'),
    [],
    'nothing refused but the resends of counted reports',
  );
  const dropped: number[] = [];
  for (const id of members) {
    const stats = await fleet.stats(id);
    t.is(stats.acksRefused, 0, `${id}: no report refused`);
    dropped.push(stats.outboxDropped);
  }
  // With the aggregator away the broker holds every report the meters published, so one their
  // outboxes (10 reports here) had to drop still counts; without it, the outbox is what resends.
  if (outage.kind !== 'aggregator') t.deepEqual(dropped, [0, 0, 0], 'no outbox dropped a report');
  t.log(
    `${broker}, ${outage.kind} down ${outage.kind === 'node' ? failover : `${outage.downMs / 1000} s: `}${overdue.length} slots overdue at the return, slots ${from}..${last} complete, ${rejections.duplicate ?? 0} resends answered duplicate, outboxes dropped ${dropped.join('/')}`,
  );
}

// The aggregator reads its group through one subscription, so a broker keeps one queue for it:
// the reports of every member queued while it was away, then its marker. NATS makes that one
// JetStream consumer, which delivers in the stream's order (with one consumer per member topic,
// before, the marker came back first in two runs of three).
const markerBrokers: BrokerKind[] = ['embedded', 'mosquitto', 'nats'];
for (const broker of markerBrokers) {
  test(`${broker}: a resumed session's queue of two members all comes in before the backlog marker its client publishes after subscribing`, async (t) => {
    t.timeout(120_000, '500 reports through the broker twice');
    const members = ['m1', 'm2'];
    const d = await deploy({ groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }], broker });
    t.teardown(() => d.cleanup());
    const user = aggregatorUser('street');
    const session = () => connectRole({ ...brokerConnection(d.config), username: user, password: d.secrets.services[user] });
    const away = session();
    await connected(away);
    await away.subscribeAsync(groupReportsFilter('street'), { qos: 1 });
    await endClient(away);
    const meters = members.map((id) =>
      connectRole({ ...brokerConnection(d.config), username: meterUser(id), password: d.secrets.meters[id].password, persistent: false }),
    );
    t.teardown(() => Promise.all(meters.map(endClient)));
    await Promise.all(meters.map((m) => connected(m)));
    const queued = 500;
    // Interleaved, as a group's members report: the marker must wait for both members' queues.
    await Promise.all(
      Array.from({ length: queued }, (_, i) =>
        meters[i % 2].publishAsync(reportTopic('street', members[i % 2]), Buffer.alloc(600, i), { qos: 1 }),
      ),
    );

    const back = session();
    t.teardown(() => endClient(back));
    const marker = new BacklogMarker(back, backlogTopic('street'));
    t.teardown(() => marker.cancel());
    const reports = new Map(members.map((m) => [m, 0]));
    let before = -1;
    back.on('message', (topic, payload) => {
      // A slow reader, as an aggregator checking each report: the queue then takes a while to go out.
      const until = Date.now() + 1;
      while (Date.now() < until);
      const at = reportTopicParts(topic);
      if (at) reports.set(at.meterId, reports.get(at.meterId)! + 1);
      else if (topic === marker.topic && marker.receive(payload)) before = reports.get('m1')! + reports.get('m2')!;
    });
    await connected(back);
    marker.begin();
    await until(() => before >= 0, 'the marker back', 60_000);
    t.is(before, queued, 'every queued report came before the marker');
    t.deepEqual([...reports.values()], [queued / 2, queued / 2], "both members' queues");
  });
}

test('nats: killing the node every party dials first, mid-slot, loses no acknowledged report and counts none twice', async (t) => {
  t.timeout(240_000, 'a slot, the node down until a slot went through without it, the lateness, two slots');
  await scenario(t, 'nats', { kind: 'node', downMs: 30_000, slotSeconds: 3 });
});

const brokers: BrokerKind[] = ['embedded', 'mosquitto'];
for (const broker of brokers) {
  test(`${broker}: the aggregator down 30 s loses no report and counts none twice`, async (t) => {
    t.timeout(240_000, 'a slot, 30 s down, the lateness, two slots');
    await scenario(t, broker, { kind: 'aggregator', downMs: 30_000, slotSeconds: 5 });
  });
  test(`${broker}: the aggregator down 5 minutes loses no report and counts none twice`, async (t) => {
    t.timeout(600_000, 'a slot, 5 minutes down, the lateness, two slots');
    await scenario(t, broker, { kind: 'aggregator', downMs: 300_000, slotSeconds: 20 });
  });
  test(`${broker}: a meter's Wi-Fi loss of 40 s, beyond the lateness, loses no report and counts none twice`, async (t) => {
    t.timeout(240_000, 'a slot, 40 s away, the lateness, two slots');
    await scenario(t, broker, { kind: 'wifi', downMs: 40_000, slotSeconds: 5 });
  });
  test(`${broker}: a broker restart loses no report and counts none twice`, async (t) => {
    t.timeout(240_000, 'a slot, 10 s down, the lateness, two slots');
    await scenario(t, broker, { kind: 'broker', downMs: 10_000, slotSeconds: 5 });
  });
  // What the embedded broker lost with its sessions before it kept them in a file: the meters'
  // replays went to nobody, the slot between came too late by the meters' resend.
  test(`${broker}: a broker restart with the meters back before their aggregator loses no report and counts none twice`, async (t) => {
    t.timeout(240_000, 'a slot, 10 s down, 8 s more for the aggregator, the lateness, two slots');
    await scenario(t, broker, { kind: 'broker', downMs: 10_000, slotSeconds: 5, aggregatorLaterMs: 8_000 });
  });
}
