/**
 * The rules the host's deployment configuration and the meter's configuration share
 * (firmware/config/): the same bad value is refused by both with the same field and explanation,
 * each under its own reason (bad-config, invalid-config); the meter's check also inside XS with the
 * device's transports. Boundaries of each rule on both sides.
 */
import test from 'ava';
import { resolve } from 'node:path';
import { DEVICE_TRANSPORTS, MQTTJS_TRANSPORTS, parseBrokerUrl } from '../../firmware/config/broker-url.ts';
import { PACKING_LIMITS } from '../../firmware/config/packing.ts';
import { validateConfig } from '../../firmware/config/schema.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { brokerAddress, HOST_TRANSPORTS, parseConfig } from '../../host/config/schema.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { bundle, startXsWorker, XsCommandError } from '../../host/xs/harness.ts';
import { rawMeterConfig } from '../firmware/helpers/config.ts';

const keys = testKeyPair();
const groups = [{ id: 'north', members: ['a1', 'a2'], feeder: 'f-north', k: 2 }];

const hostConfig = (patch: Record<string, unknown>) => parseConfig({ groups, ...patch }, (p) => resolve('/srv/mv', p));
const meterConfig = async (patch: Record<string, unknown>) => rawMeterConfig(keys.publicKey, 'mqtt://127.0.0.1:1883', patch);

/** "reason: field: explanation" split at the first colon; 'accepted' when nothing was refused. */
function refusal(fn: () => unknown): { reason: string; problem: string } | 'accepted' {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    if (!(error instanceof MeterveilError)) throw error;
    return { reason: error.reason, problem: error.message.slice(error.reason.length + 2) };
  }
}

const xsWorker = (async () =>
  startXsWorker({ bundle: await bundle(new URL('../firmware/fixtures/device-config-entry.ts', import.meta.url).pathname) }))();
test.after.always(async () => (await xsWorker).close());

async function deviceRefusal(config: unknown): Promise<{ reason: string; problem: string } | 'accepted'> {
  try {
    await (await xsWorker).issue({ config });
    return 'accepted';
  } catch (error) {
    if (!(error instanceof XsCommandError) || error.reason === undefined) throw error;
    return { reason: error.reason, problem: error.message.slice(`XS: ${error.reason}: `.length) };
  }
}

/** Bad values of a field both configurations have, in the shape each expects. */
const SHARED_BAD_VALUES: { what: string; host: Record<string, unknown>; meter: Record<string, unknown>; problem: RegExp }[] = [
  {
    what: 'broker url without a scheme',
    host: { broker: { url: 'localhost:1883' } },
    meter: { broker: { url: 'localhost:1883' } },
    problem: /^broker\.url: must look like/,
  },
  {
    what: 'broker url with a user',
    host: { broker: { url: 'mqtt://u@h:1883' } },
    meter: { broker: { url: 'mqtt://u@h:1883' } },
    problem: /^broker\.url: must look like/,
  },
  {
    what: 'broker url with a path',
    host: { broker: { url: 'mqtt://h:1883/x' } },
    meter: { broker: { url: 'mqtt://h:1883/x' } },
    problem: /^broker\.url: must look like/,
  },
  {
    what: 'broker port 0',
    host: { broker: { url: 'mqtt://h:0' } },
    meter: { broker: { url: 'mqtt://h:0' } },
    problem: /^broker\.url: port 0 is not in 1\.\.65535$/,
  },
  {
    what: 'broker port 65536',
    host: { broker: { url: 'mqtt://h:65536' } },
    meter: { broker: { url: 'mqtt://h:65536' } },
    problem: /^broker\.url: port 65536/,
  },
  { what: 'slot not dividing a day', host: { slotSeconds: 7 }, meter: { slotSeconds: 7 }, problem: /^slotSeconds: must divide a day/ },
  { what: 'slot of 0 s', host: { slotSeconds: 0 }, meter: { slotSeconds: 0 }, problem: /^slotSeconds: must be an integer in 1\.\.86400$/ },
  {
    what: 'slot over a day',
    host: { slotSeconds: 86_401 },
    meter: { slotSeconds: 86_401 },
    problem: /^slotSeconds: must be an integer in 1\.\.86400$/,
  },
  {
    what: 'no readings',
    host: { packing: { readings: 0 } },
    meter: { packing: { readings: 0 } },
    problem: /^packing\.readings: must be an integer in 1\.\.255$/,
  },
  {
    what: '256 readings',
    host: { packing: { readings: 256 } },
    meter: { packing: { readings: 256 } },
    problem: /^packing\.readings: must be an integer in 1\.\.255$/,
  },
  {
    what: 'readings as text',
    host: { packing: { readings: '4' } },
    meter: { packing: { readings: '4' } },
    problem: /^packing\.readings: must be an integer/,
  },
  {
    what: 'group size 0',
    host: { packing: { maxGroupSize: 0 } },
    meter: { packing: { maxGroupSize: 0 } },
    problem: /^packing\.maxGroupSize: must be an integer in 1\.\.10000000$/,
  },
  {
    what: 'group size above 10,000,000',
    host: { packing: { maxGroupSize: 10_000_001 } },
    meter: { packing: { maxGroupSize: 10_000_001 } },
    problem: /^packing\.maxGroupSize: must be an integer in 1\.\.10000000$/,
  },
  {
    what: 'power 0 W',
    host: { packing: { maxPowerWatts: 0 } },
    meter: { packing: { maxPowerWatts: 0 } },
    problem: /^packing\.maxPowerWatts: must be an integer in 1\.\.100000$/,
  },
  {
    what: 'power above 100 kW',
    host: { packing: { maxPowerWatts: 100_001 } },
    meter: { packing: { maxPowerWatts: 100_001 } },
    problem: /^packing\.maxPowerWatts: must be an integer in 1\.\.100000$/,
  },
  {
    what: 'fractional power',
    host: { packing: { maxPowerWatts: 1.5 } },
    meter: { packing: { maxPowerWatts: 1.5 } },
    problem: /^packing\.maxPowerWatts: must be an integer/,
  },
];

for (const bad of SHARED_BAD_VALUES) {
  test(`host and meter refuse the same way: ${bad.what}`, async (t) => {
    const host = refusal(() => hostConfig(bad.host));
    const meterRaw = await meterConfig(bad.meter);
    const meter = refusal(() => validateConfig(meterRaw));
    const device = await deviceRefusal(meterRaw);
    t.like(host, { reason: 'bad-config' });
    t.like(meter, { reason: 'invalid-config' });
    t.like(device, { reason: 'invalid-config' });
    if (host === 'accepted' || meter === 'accepted' || device === 'accepted') return;
    t.regex(host.problem, bad.problem);
    t.is(meter.problem, host.problem);
    t.is(device.problem, host.problem);
  });
}

const ID_PROBLEM = 'must be 1-64 characters of A-Z a-z 0-9 . _ -';

test('an id is refused with the same explanation as a host member or feeder and as the meter id', async (t) => {
  t.deepEqual(
    refusal(() => hostConfig({ groups: [{ ...groups[0], members: ['a/1', 'a2'] }] })),
    {
      reason: 'bad-config',
      problem: `group north: members[0]: ${ID_PROBLEM}`,
    },
  );
  t.deepEqual(
    refusal(() => hostConfig({ groups: [{ ...groups[0], feeder: 'f'.repeat(65) }] })),
    {
      reason: 'bad-config',
      problem: `group north: feeder: ${ID_PROBLEM}`,
    },
  );
  for (const meterId of ['a/1', 'm'.repeat(65), '']) {
    const raw = await meterConfig({ meterId });
    t.deepEqual(
      refusal(() => validateConfig(raw)),
      { reason: 'invalid-config', problem: `meterId: ${ID_PROBLEM}` },
    );
    t.deepEqual(await deviceRefusal(raw), { reason: 'invalid-config', problem: `meterId: ${ID_PROBLEM}` });
  }
  t.is(hostConfig({ groups: [{ ...groups[0], feeder: 'f'.repeat(64) }] }).groups[0].feeder, 'f'.repeat(64));
  t.like(await (await xsWorker).issue({ config: await meterConfig({ meterId: 'm'.repeat(64) }) }), { meterId: 'm'.repeat(64) });
});

test('the limits of every shared range are accepted by host, meter and device alike', async (t) => {
  t.is(PACKING_LIMITS.maxPowerWatts.max, 100_000);
  // Each case fits the packing of a 2048-bit key: all maxima at once would not.
  const cases = [
    {
      slotSeconds: 60,
      packing: { readings: 1, maxGroupSize: PACKING_LIMITS.maxGroupSize.max, maxPowerWatts: PACKING_LIMITS.maxPowerWatts.max },
    },
    { slotSeconds: 240, packing: { readings: 240, maxGroupSize: 2, maxPowerWatts: 100 } },
    { slotSeconds: 86_400, packing: { readings: 1, maxGroupSize: 2, maxPowerWatts: 1 } },
    { slotSeconds: 1, packing: { readings: 1, maxGroupSize: 2, maxPowerWatts: 23_000 } },
  ];
  for (const c of cases) {
    t.like(hostConfig(c), c);
    const raw = await meterConfig(c);
    t.like(validateConfig(raw), c);
    t.like(validateConfig(raw, DEVICE_TRANSPORTS), c);
    t.like(await (await xsWorker).issue({ config: raw }), c);
  }
});

test('a reading count that does not split the slot into whole milliseconds is refused by the host as by the meter', async (t) => {
  t.deepEqual(
    refusal(() => hostConfig({ slotSeconds: 60, packing: { readings: 7 } })),
    {
      reason: 'bad-config',
      problem: 'packing.readings: must split the slot (slotSeconds * 1000 = 60000 ms) into whole milliseconds',
    },
  );
  // The meter also needs whole sample intervals per sub-slot, and names its own sampleMs.
  const raw = await meterConfig({ slotSeconds: 60, packing: { readings: 7 } });
  const meter = refusal(() => validateConfig(raw));
  t.like(meter, { reason: 'invalid-config' });
  t.regex(meter === 'accepted' ? '' : meter.problem, /^sampleMs: must divide the sub-slot length/);
});

test('broker urls: the same form on every side, the schemes each client speaks, refused at validation on the device', async (t) => {
  const form = (url: string) =>
    parseBrokerUrl(url, 'broker.url', MQTTJS_TRANSPORTS, (field, explanation) => {
      throw new Error(`${field}: ${explanation}`);
    });
  t.deepEqual(form('mqtt://broker.example:1'), { scheme: 'mqtt', host: 'broker.example', port: 1 });
  t.deepEqual(form('mqtt://10.0.0.2:65535/'), { scheme: 'mqtt', host: '10.0.0.2', port: 65_535 });
  t.deepEqual(form('mqtt://[fd00::2]:1884'), { scheme: 'mqtt', host: '[fd00::2]', port: 1884 });
  t.deepEqual(
    ['mqtt', 'mqtts', 'ws', 'wss'].map((s) => form(`${s}://h`).port),
    [1883, 8883, 80, 443],
  );
  t.deepEqual(brokerAddress(hostConfig({ broker: { url: 'mqtt://[::1]:1884' } })), { scheme: 'mqtt', host: '[::1]', port: 1884 });
  t.deepEqual(HOST_TRANSPORTS.schemes, ['mqtt', 'mqtts']);
  t.deepEqual(DEVICE_TRANSPORTS.schemes, ['mqtt', 'mqtts']);

  t.is(hostConfig({ broker: { url: 'mqtts://h:8883' } }).broker.url, 'mqtts://h:8883');
  for (const scheme of ['ws', 'wss']) {
    t.deepEqual(
      refusal(() => hostConfig({ broker: { url: `${scheme}://h:80` } })),
      {
        reason: 'bad-config',
        problem: `broker.url: ${scheme}:// is not supported by the host roles (mqtt://, mqtts:// only)`,
      },
    );
  }
  // A TLS URL needs the CA the meter trusts (DER, hex); the schema checks its form, TLS its content.
  const ca = '3003020101';
  for (const scheme of ['mqtt', 'mqtts', 'ws', 'wss']) {
    const tls = scheme === 'mqtts' || scheme === 'wss' ? { ca } : {};
    t.is(validateConfig(await meterConfig({ broker: { url: `${scheme}://h:1884`, ...tls } })).broker.url, `${scheme}://h:1884`);
  }
  t.like(validateConfig(await meterConfig({ broker: { url: 'mqtts://h:8883', ca } }), DEVICE_TRANSPORTS).broker, {
    url: 'mqtts://h:8883',
    ca,
  });
  const baseMeter = await meterConfig({});
  const caProblem = (broker: object) => {
    const r = refusal(() => validateConfig({ ...baseMeter, broker }));
    return r === 'accepted' ? r : `${r.reason} ${r.problem}`;
  };
  t.regex(caProblem({ url: 'mqtts://h:8883' }), /^invalid-config broker\.ca: is required for a TLS broker URL/);
  t.regex(caProblem({ url: 'mqtt://h:1883', ca }), /^invalid-config broker\.ca: is for a TLS broker URL/);
  for (const bad of ['', 'zz', '3003020', '2003020101', 'AB'.repeat(10), '30'.repeat(2049)])
    t.regex(caProblem({ url: 'mqtts://h:8883', ca: bad }), /^invalid-config broker\.ca: must be a DER certificate/, bad);
  t.like(await (await xsWorker).issue({ config: await meterConfig({ broker: { url: 'mqtt://h:1884' } }) }), { broker: 'mqtt://h:1884' });
  for (const scheme of ['ws', 'wss']) {
    const raw = await meterConfig({ broker: { url: `${scheme}://h:1884`, ...(scheme === 'wss' ? { ca } : {}) } });
    const expected = {
      reason: 'invalid-config',
      problem: `broker.url: ${scheme}:// is not supported by the device (mqtt://, mqtts:// only)`,
    };
    t.deepEqual(
      refusal(() => validateConfig(raw, DEVICE_TRANSPORTS)),
      expected,
    );
    t.deepEqual(await deviceRefusal(raw), expected);
  }
});
