/**
 * TLS on the broker, against the embedded aedes and Debian's mosquitto, with the deployment's
 * certificates (the shared test set of tools/pipeline/tls-fixture.ts): a role that trusts the CA
 * connects and its reports are acknowledged; a client that does not trust the CA, or that names a
 * host the certificate does not, is refused, and so is one that speaks plain MQTT to the TLS port.
 * A plain listener or URL off loopback is refused by name before anything listens.
 */
import test from 'ava';
import { connect } from 'node:net';
import mqtt from 'mqtt';
import { MeterveilError } from '../../firmware/errors.ts';
import { startEmbeddedBroker } from '../../host/broker/embedded.ts';
import { mosquittoConf } from '../../host/broker/mosquitto.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { startHttpApi, type ApiContext } from '../../host/provider/http-api.ts';
import { deploy, freePort, type BrokerKind } from '../../tools/pipeline/deployment.ts';
import { sharedTls } from '../../tools/pipeline/tls-fixture.ts';
import { until } from '../helpers/poll.ts';

const GROUPS = [{ id: 'street', members: ['m1', 'm2'], feeder: 'f1', k: 2 }];

async function refusedWith(t: import('ava').ExecutionContext, promise: Promise<unknown>) {
  const error = await t.throwsAsync(promise, { instanceOf: MeterveilError });
  return error!.reason;
}

for (const broker of ['embedded', 'mosquitto'] as BrokerKind[]) {
  test(`${broker}: a meter that trusts the CA reports over TLS; a client that does not, or speaks plain MQTT, is refused`, async (t) => {
    const d = await deploy({ groups: GROUPS, broker, tls: true });
    t.teardown(() => d.cleanup());
    t.regex(d.config.broker.url, /^mqtts:\/\/127\.0\.0\.1:/);
    const port = Number(new URL(d.config.broker.url).port);
    const { password } = d.secrets.meters.m1;

    const meter = await d.meter('m1', ['street']);
    t.true(meter.client.connected, 'the CA the deployment gave it verifies the broker');

    // The system's trust store, not the deployment CA: the broker's certificate does not verify.
    const stranger = connectRole({ url: d.config.broker.url, username: 'm2', password: d.secrets.meters.m2.password, persistent: false });
    t.teardown(() => stranger.end(true));
    t.is(await refusedWith(t, connected(stranger, 5_000)), 'broker-certificate-refused');

    // Plain MQTT to the TLS port never gets a CONNACK.
    const plainClient = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: 'm1', password, reconnectPeriod: 0, connectTimeout: 2_000 });
    plainClient.on('error', () => {});
    const plain = await new Promise((resolve) => {
      plainClient.once('connect', () => resolve('connected'));
      plainClient.once('close', () => resolve('closed'));
    });
    plainClient.end(true);
    t.is(plain, 'closed');

    if (broker === 'embedded') {
      await until(
        () => (d.refusals()?.get('tls-handshake-failed') ?? 0) >= 2,
        'the broker counting the failed handshakes',
        5_000,
        () => JSON.stringify([...d.refusals()!]),
      );
      t.is(d.refusals()?.get('bad-credentials'), undefined, 'nobody got as far as a password');
    }
    await endClient(stranger);
  });
}

test('a plain listener or URL off loopback is refused by name; on loopback it is allowed', async (t) => {
  const base = { groups: GROUPS };
  const reasonOf = (raw: object) => {
    try {
      parseConfig({ ...base, ...raw }, (p) => `/tmp/x/${p}`);
      return 'accepted';
    } catch (e) {
      return (e as MeterveilError).reason;
    }
  };
  t.is(reasonOf({ broker: { url: 'mqtt://10.0.0.2:1883' } }), 'plain-off-loopback');
  t.is(reasonOf({ broker: { url: 'mqtt://broker.example' } }), 'plain-off-loopback');
  t.is(reasonOf({ broker: { url: 'mqtt://[fd00::2]:1883' } }), 'plain-off-loopback');
  t.is(reasonOf({ broker: { url: 'mqtt://127.0.0.1:1883' } }), 'accepted');
  t.is(reasonOf({ broker: { url: 'mqtt://[::1]:1883' } }), 'accepted');
  t.is(reasonOf({ broker: { url: 'mqtts://10.0.0.2:8883' } }), 'accepted');
  t.is(reasonOf({}), 'accepted', 'the default is TLS on loopback');
  t.is(parseConfig(base, (p) => p).broker.url, 'mqtts://127.0.0.1:8883');
  t.is(reasonOf({ http: { host: '0.0.0.0', tls: false } }), 'plain-off-loopback');
  t.true(parseConfig({ ...base, http: { host: '0.0.0.0' } }, (p) => p).http.tls, 'the API off loopback is HTTPS by default');
  t.false(parseConfig(base, (p) => p).http.tls);

  const users = new Map([['m1', 'secret']]);
  const acl = new Map([['m1', { publish: new Set<string>(), subscribe: new Set<string>() }]]);
  const port = await freePort();
  t.is(await refusedWith(t, startEmbeddedBroker({ host: '0.0.0.0', port, users, acl })), 'plain-off-loopback');
  // Refused before it listened: the port is still free for a broker with a certificate.
  const secure = await startEmbeddedBroker({ host: '0.0.0.0', port, users, acl, tls: (await sharedTls()).broker });
  await secure.close();

  const files = { passwordPath: '/p', aclPath: '/a' };
  t.throws(() => mosquittoConf({ ...files, listeners: [{ port: 1883 }] }), { message: /^plain-off-loopback: .*every interface/ });
  t.throws(() => mosquittoConf({ ...files, listeners: [{ port: 1883, host: '192.168.1.10' }] }), { message: /^plain-off-loopback/ });
  t.regex(mosquittoConf({ ...files, listeners: [{ port: 1883, host: '127.0.0.1' }] }), /^listener 1883 127\.0\.0\.1$/m);

  const ctx = {} as ApiContext;
  t.is(await refusedWith(t, startHttpApi(ctx, '0.0.0.0', 0)), 'plain-off-loopback');
});

test('a broker whose certificate does not name the host dialled is refused; a plain connection to the TLS port is closed', async (t) => {
  const port = await freePort();
  const { ca } = await sharedTls();
  // 127.0.0.2 is loopback too, but the test certificate names 127.0.0.1, ::1 and localhost only.
  const broker = await startEmbeddedBroker({
    host: '127.0.0.2',
    port,
    users: new Map(),
    acl: new Map(),
    tls: (await sharedTls()).broker,
    connectTimeoutMs: 300,
  });
  t.teardown(() => broker.close());
  const elsewhere = connectRole({ url: `mqtts://127.0.0.2:${port}`, ca: ca.cert, username: 'm1', password: 'x', persistent: false });
  t.teardown(() => elsewhere.end(true));
  t.is(await refusedWith(t, connected(elsewhere, 5_000)), 'broker-certificate-refused');
  elsewhere.end(true);

  const socket = connect(port, '127.0.0.2');
  socket.on('error', () => {});
  // Not a TLS ClientHello: an MQTT CONNECT's first bytes.
  socket.write(Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54]));
  await new Promise((resolve) => socket.once('close', resolve));
  await until(() => (broker.refusals.get('tls-handshake-failed') ?? 0) >= 2, 'both failed handshakes counted');
  t.is(broker.refusals.get('tls-handshake-failed'), 2);
});
