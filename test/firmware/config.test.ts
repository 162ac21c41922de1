/**
 * Configuration checks: a meter with a missing or invalid key, id, broker or slot setting is
 * refused with a reason naming the field, and (inside XS) it never connects or publishes.
 */
import test from 'ava';
import { validateConfig, DEFAULTS } from '../../firmware/config/schema.ts';
import { brokerUrlAt } from '../../firmware/config/broker-url.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { PZEM_REPLY_TIMEOUT_MS } from '../../firmware/sensors/pzem004t.ts';
import { publicKeyToJson } from '../../firmware/paillier/codec.ts';
import { generateKeyPair } from '../../host/paillier/keygen.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { XsFleet } from '../../host/simulate/xs-fleet.ts';
import { startTestBroker } from './helpers/broker.ts';
import { rawMeterConfig } from './helpers/config.ts';

const keys = testKeyPair();
const BROKER = 'mqtt://127.0.0.1:1883';

async function refusal(t: any, overrides: Record<string, unknown>, field: RegExp) {
  const { publicKey } = keys;
  const raw = rawMeterConfig(publicKey, BROKER, overrides);
  for (const key of Object.keys(overrides)) if (overrides[key] === undefined) delete raw[key];
  const error = t.throws(() => validateConfig(raw), { instanceOf: MeterveilError });
  t.is(error.reason, 'invalid-config');
  t.regex(error.message, field);
}

test('a complete configuration is accepted and gets documented defaults', async (t) => {
  const { publicKey } = keys;
  const config = validateConfig(rawMeterConfig(publicKey, BROKER, { slotSeconds: undefined, sampleMs: undefined }));
  t.is(config.slotSeconds, DEFAULTS.slotSeconds);
  t.is(config.sampleMs, DEFAULTS.sampleMs);
  t.is(config.outboxCapacity, undefined, 'the outbox then holds what the storage holds');
  t.is(config.publicKey.keyId, publicKey.keyId);
  t.is(config.macKey.length, 32);
});

test('a missing public key is refused', (t) => refusal(t, { publicKey: undefined }, /^invalid-config: publicKey: is required/));
test('a public key whose id does not match n is refused', async (t) => {
  const { publicKey } = keys;
  await refusal(t, { publicKey: { ...publicKeyToJson(publicKey), keyId: '0000000000000000' } }, /publicKey: key-id-mismatch/);
});
test('a public key below 2048 bits is refused', async (t) => {
  const small = await generateKeyPair(1024);
  await refusal(t, { publicKey: publicKeyToJson(small.publicKey) }, /publicKey: n has 1024 bits/);
});
test('a public key that is not JSON is refused', (t) => refusal(t, { publicKey: '{"scheme":' }, /publicKey: malformed-key/));
test('a missing MAC key is refused', (t) => refusal(t, { macKey: undefined }, /macKey: is required/));
test('a short MAC key is refused', (t) => refusal(t, { macKey: 'abcd' }, /macKey: must be 16-64 bytes/));
test('a constant MAC key is refused', (t) => refusal(t, { macKey: '00'.repeat(32) }, /macKey: is a constant/));
test('a meter id with a slash is refused', (t) => refusal(t, { meterId: 'a/b' }, /meterId/));
test('a broker url without a scheme is refused', (t) => refusal(t, { broker: { url: 'localhost:1883' } }, /broker\.url/));
test('a tier of broker URLs is kept in order, its first as url; each connection after the first dials the next', (t) => {
  const urls = ['mqtt://127.0.0.1:1883', 'mqtt://127.0.0.1:1884', 'mqtt://127.0.0.1:1885'];
  const { broker } = validateConfig(rawMeterConfig(keys.publicKey, BROKER, { broker: { urls } }));
  t.is(broker.url, urls[0]);
  t.deepEqual(broker.urls, urls);
  t.deepEqual(
    [0, 1, 2, 3, 4].map((attempt) => brokerUrlAt(broker, attempt)),
    [urls[0], urls[1], urls[2], urls[0], urls[1]],
  );
  t.is(brokerUrlAt({ url: BROKER }, 7), BROKER, 'one broker: dialled every time');
  t.false('urls' in validateConfig(rawMeterConfig(keys.publicKey, BROKER, {})).broker, 'a single url stays as it was');
});
test('broker urls are checked one by one and as a list', async (t) => {
  await refusal(t, { broker: { url: BROKER, urls: [BROKER] } }, /broker\.url: give url .* or urls/);
  await refusal(t, { broker: { urls: [] } }, /broker\.urls: must list 1\.\.16/);
  await refusal(t, { broker: { urls: [BROKER, BROKER] } }, /broker\.urls: lists a broker twice/);
  await refusal(t, { broker: { urls: [BROKER, 'localhost:1884'] } }, /broker\.urls\[1\]/);
  await refusal(t, { broker: { urls: [BROKER, 'mqtts://127.0.0.1:8883'] } }, /broker\.urls: must all use TLS or all not/);
});
test('an empty group list is refused', (t) => refusal(t, { groups: [] }, /groups: must list/));
test('a duplicated group is refused', (t) => refusal(t, { groups: ['a', 'a'] }, /groups: lists a group twice/));
test('a slot length that does not divide a day is refused', (t) => refusal(t, { slotSeconds: 7 }, /slotSeconds: must divide a day/));
test('a sample interval that does not divide the sub-slot is refused', (t) =>
  refusal(t, { slotSeconds: 60, sampleMs: 7000 }, /sampleMs: must divide the sub-slot/));
test('a reading count that does not split the slot into whole sample intervals is refused', (t) =>
  refusal(t, { slotSeconds: 60, packing: { readings: 7 } }, /sampleMs: must divide the sub-slot/));
test('packing more readings than n can hold for the group size is refused', (t) =>
  refusal(
    t,
    { slotSeconds: 86400, sampleMs: 1000, packing: { readings: 240, maxGroupSize: 10_000_000 } },
    /packing: packing-does-not-fit/,
  ));
test('an unknown sensor kind is refused', (t) => refusal(t, { sensor: { kind: 'guess' } }, /sensor\.kind/));
test('a CT clamp without calibration is refused', (t) =>
  refusal(t, { sensor: { kind: 'ct-clamp', pin: 4 } }, /sensor\.ampsPerCount: is required/));
test('a PZEM-004T gets its address, a reply timeout below the sample interval and a re-initialisation count', (t) => {
  const pzem = (overrides: Record<string, unknown>) =>
    validateConfig(rawMeterConfig(keys.publicKey, BROKER, { sensor: { kind: 'pzem004t', address: 9 }, ...overrides })).sensor;
  t.like(pzem({ sampleMs: 1000 }), { address: 9, replyTimeoutMs: PZEM_REPLY_TIMEOUT_MS, reinitAfterMisses: 3 });
  t.like(pzem({ sampleMs: 200 }), { replyTimeoutMs: 100 }, 'the default stays within half a short sample interval');
  t.like(pzem({ sampleMs: 1000, sensor: { kind: 'pzem004t', replyTimeoutMs: 500, reinitAfterMisses: 10 } }), {
    address: 1,
    replyTimeoutMs: 500,
    reinitAfterMisses: 10,
  });
});
test('a PZEM-004T reply timeout not below the sample interval is refused', (t) =>
  refusal(t, { sampleMs: 1000, sensor: { kind: 'pzem004t', replyTimeoutMs: 1000 } }, /sensor\.replyTimeoutMs: must be below sampleMs/));
test('a PZEM-004T at the general address 0xF8 is refused: any PZEM on the bus would answer', (t) =>
  refusal(t, { sensor: { kind: 'pzem004t', address: 0xf8 } }, /sensor\.address/));
test('a CT clamp calibration is given in amperes per count, or worked out from its turns, burden and ADC', (t) => {
  const clamp = (sensor: Record<string, unknown>) =>
    validateConfig(rawMeterConfig(keys.publicKey, BROKER, { sensor: { kind: 'ct-clamp', pin: 34, ...sensor } })).sensor;
  t.like(clamp({ ampsPerCount: 0.0122 }), { ampsPerCount: 0.0122 });
  // A 2000-turn clamp on 33 ohms into 12 bits over 3.3 V: 3.3 / 4096 / 33 * 2000 A per count.
  t.like(clamp({ turns: 2000, burdenOhms: 33, adcFullScaleVolts: 3.3 }), { ampsPerCount: 0.048828125 });
  t.like(clamp({ turns: 2000, burdenOhms: 33, adcFullScaleVolts: 3.3, adcBits: 10 }), { ampsPerCount: 0.1953125 });
});
test('a CT clamp with both a calibration and a circuit is refused', (t) =>
  refusal(
    t,
    { sensor: { kind: 'ct-clamp', pin: 34, ampsPerCount: 0.05, turns: 2000, burdenOhms: 33, adcFullScaleVolts: 3.3 } },
    /sensor\.ampsPerCount: give either/,
  ));
test('a CT clamp circuit without its burden resistor is refused', (t) =>
  refusal(t, { sensor: { kind: 'ct-clamp', pin: 34, turns: 2000, adcFullScaleVolts: 3.3 } }, /sensor\.burdenOhms: is required/));

test('inside XS, a meter without a valid key refuses to start and never touches the broker', async (t) => {
  const { publicKey } = keys;
  const broker = await startTestBroker();
  const raw = rawMeterConfig(publicKey, broker.url);
  delete raw.macKey;
  const logs: string[] = [];
  const fleet = await XsFleet.start({ configs: [raw], startMs: Date.UTC(2026, 0, 1), onLog: (_id, line) => logs.push(line) });
  t.teardown(async () => {
    await fleet.close();
    await broker.close();
  });
  const error = await t.throwsAsync(fleet.boot());
  t.is((error as any).reason, 'invalid-config');
  t.regex(error!.message, /macKey: is required/);
  await fleet.advanceTo(Date.UTC(2026, 0, 1, 0, 5));
  await fleet.settle();
  t.is(broker.connections, 0);
});
