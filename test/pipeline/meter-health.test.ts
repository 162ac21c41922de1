/**
 * Meter health through real roles: a meter running the firmware in XS publishes its status at
 * connect and every statusSeconds of its clock, retained, through the embedded broker and through
 * Debian's mosquitto (each with the deployment's ACL); the provider checks it under the meter's
 * status key, stores it in its SQLite file and serves it at /api/meters. A status forged under
 * another key, a malformed one and a replayed older one are refused by name and counted; a meter
 * cannot publish on another meter's status topic. No reading is in it.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { encodeMeterStatus, METER_STATUS_FIELDS, meterStatusTopic, type MeterStatus } from '../../firmware/protocol/meter-status.ts';
import { FIRMWARE_VERSION } from '../../firmware/version.ts';
import { meterUser, PROVIDER_USER } from '../../host/config/identities.ts';
import { meterStatusKey } from '../../host/config/secrets.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { brokerConnection } from '../../host/tls/files.ts';
import { runProvider } from '../../host/provider/run.ts';
import { ProviderStore } from '../../host/provider/store.ts';
import { XsFleet } from '../../host/simulate/xs-fleet.ts';
import { meterConfigs } from '../../host/start/fleet.ts';
import { deploy, type BrokerKind } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';
import { getJson } from './support/probe.ts';

const START = Date.UTC(2026, 11, 2, 6, 0, 0);

const brokers: BrokerKind[] = ['embedded', 'mosquitto'];
for (const broker of brokers)
  test(`${broker}: an XS meter publishes its status retained; the provider stores and serves it and refuses forged, malformed and stale ones by name`, async (t) => {
    t.timeout(120_000, 'a 2048-bit meter booting in XS');
    // Over TLS: the XS meter's connection goes through its host adapter with the CA of its configuration.
    const d = await deploy({ groups: [{ id: 'street', members: ['m1', 'm2'], feeder: 'f1', k: 2 }], broker, tls: true });
    t.teardown(() => d.cleanup());
    const provider = await runProvider(d.config);
    t.teardown(() => provider.stop());
    const api = async (path: string) => getJson(`${provider.apiUrl}${path}`);

    const fleet = await XsFleet.start({
      configs: meterConfigs(d.config, d.publicKey, d.secrets)
        .filter((c) => c.meterId === 'm1')
        .map((c) => ({ ...c, statusSeconds: 10 })),
      startMs: START,
    });
    t.teardown(() => fleet.close());
    await fleet.boot();
    await fleet.settle();
    await until(async () => (await api('/api/meters')).body[0].receivedAt !== null, 'the XS meter status in the API', 30_000);
    const stats = await fleet.stats('m1');
    const { body: meters } = await api('/api/meters');
    t.deepEqual(meters[1], {
      meterId: 'm2',
      firmware: null,
      keyId: null,
      at: null,
      uptime: null,
      pool: null,
      outbox: null,
      dropped: null,
      acksRejected: null,
      storageFull: null,
      sensorMisses: null,
      freeMemory: null,
      receivedAt: null,
    });
    t.like(meters[0], {
      meterId: 'm1',
      firmware: FIRMWARE_VERSION,
      keyId: d.publicKey.keyId,
      at: new Date(START).toISOString(),
      uptime: 0,
      dropped: 0,
      acksRejected: 0,
      storageFull: 0,
      sensorMisses: 0,
      freeMemory: null,
    });
    t.is(meters[0].outbox, stats.outboxSize);
    t.deepEqual((await api('/api/meters/m1')).body, meters[0]);
    t.like(await api('/api/meters/m9'), { status: 404, body: { error: 'unknown-meter' } });
    t.like(await api('/api/meters?all=1'), { status: 400, body: { error: 'unknown-parameter' } });

    // Retained: a subscriber that comes later still gets it, and it holds exactly the status fields.
    const late = mqtt.connect(d.config.broker.url, {
      ca: brokerConnection(d.config).ca,
      username: PROVIDER_USER,
      password: d.secrets.services[PROVIDER_USER],
      clientId: 'provider/late-reader',
    });
    t.teardown(() => void late.end(true));
    const retained = new Promise<{ payload: Buffer; retain: boolean }>((resolve) =>
      late.on('message', (_topic, payload, packet) => resolve({ payload, retain: packet.retain })),
    );
    await late.subscribeAsync('meterveil/v1/meters/+/status', { qos: 0 });
    const message = await retained;
    t.true(message.retain);
    t.deepEqual(Object.keys(JSON.parse(message.payload.toString())), [...METER_STATUS_FIELDS]);
    t.true(message.payload.length < 300, `${message.payload.length} bytes`);

    // Every statusSeconds of the meter's clock, a new one replaces it.
    for (let s = 1; s <= 10; s++) await fleet.advanceTo(START + s * 1000);
    await fleet.settle();
    await until(async () => (await api('/api/meters/m1')).body.uptime === 10, 'the next status', 30_000);
    t.like((await api('/api/meters/m1')).body, { at: new Date(START + 10_000).toISOString(), firmware: FIRMWARE_VERSION });

    // m2's own login, on its own topic: forged under another key, malformed, then genuine and replayed.
    const m2 = connectRole({
      ...brokerConnection(d.config),
      username: meterUser('m2'),
      clientId: 'm2',
      password: d.secrets.meters.m2.password,
      persistent: false,
    });
    await connected(m2);
    t.teardown(() => endClient(m2));
    const status = (at: number): MeterStatus => ({
      meterId: 'm2',
      firmware: FIRMWARE_VERSION,
      keyId: d.publicKey.keyId,
      at,
      uptime: 5,
      pool: 1,
      outbox: 0,
      dropped: 0,
      acksRejected: 0,
      storageFull: 0,
      sensorMisses: 0,
      freeMemory: null,
    });
    const counted = (reason: string) => provider.provider.counts.totals.get(reason) ?? 0;
    const publish = (payload: Uint8Array | string) => m2.publishAsync(meterStatusTopic('m2'), Buffer.from(payload), { qos: 1 });
    await publish(encodeMeterStatus(status(2000), meterStatusKey(d.secrets, 'm1')!, hmacSha256));
    await until(() => counted('meter-status-bad-mac') === 1, 'the forged status counted', 10_000);
    await publish('{"v":1,"meterId":"m2","energy":1234}');
    await until(() => counted('meter-status-malformed') === 1, 'the malformed status counted', 10_000);
    t.is((await api('/api/meters/m2')).body.receivedAt, null, 'neither was stored');
    const key = meterStatusKey(d.secrets, 'm2')!;
    await publish(encodeMeterStatus(status(2000), key, hmacSha256));
    await until(async () => (await api('/api/meters/m2')).body.uptime === 5, 'the genuine status stored', 10_000);
    await publish(encodeMeterStatus({ ...status(1000), uptime: 1 }, key, hmacSha256));
    await until(() => counted('meter-status-stale-status') === 1, 'the replayed older status counted', 10_000);
    t.like((await api('/api/meters/m2')).body, { uptime: 5, at: new Date(2_000_000).toISOString() });

    // The ACL: m2 cannot publish on m1's status topic. The embedded broker counts the refusal (and
    // closes the connection); mosquitto drops it, and what m2 sends after it still arrives.
    await m2.publishAsync(meterStatusTopic('m1'), Buffer.from(encodeMeterStatus(status(3000), key, hmacSha256)), { qos: 0 });
    if (broker === 'embedded') await until(() => d.refusals()?.get('publish-not-allowed') === 1, 'the broker refused it', 10_000);
    else {
      await publish('{}');
      await until(() => counted('meter-status-malformed') === 2, 'the status sent after it arrived', 10_000);
    }
    t.like((await api('/api/meters/m1')).body, { meterId: 'm1', uptime: 10 });
    t.is(counted('meter-status-topic-mismatch'), 0, 'it never reached the provider');

    // Stored in the provider's file: there after a restart of the store.
    await provider.stop();
    const store = new ProviderStore(`${d.config.dataDir}/provider.sqlite`, [d.publicKey.keyId]);
    t.deepEqual([...store.meterStatuses().keys()].sort(), ['m1', 'm2']);
    store.close();
  });
