/**
 * Provisioning meters for real boards (`provision --devices`): what it writes for an ESP32 with a
 * PZEM-004T or a CT clamp is accepted by the check the ESP32 entry makes at boot, run in the real
 * XS engine; what that entry would refuse is refused at provisioning time, by name, before any
 * file is written.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { sharedTls, testProvision } from '../../tools/pipeline/tls-fixture.ts';
import { pemToDerHex } from '../../host/tls/certificates.ts';
import { firmwareConfigFromMcconfig, MAX_PREFERENCE_BYTES } from '../../host/provision/device-forms.ts';
import { householdOf } from '../../host/feeder/households.ts';
import { bundle, startXsWorker } from '../../host/xs/harness.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

const run = promisify(execFile);
const bin = new URL('../../bin/meterveil.js', import.meta.url).pathname;
const GROUPS = [{ id: 'street', members: ['m1', 'm2', 'm3', 'm4'], feeder: 'f1', k: 2 }];
const WIFI = { ssid: 'grid lab 2.4', password: 'correct horse battery' };

function layout() {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-devices-'));
  writeKeyPair(join(dir, 'data/keys'), testKeyPair());
  const configPath = join(dir, 'meterveil.json');
  writeFileSync(
    configPath,
    JSON.stringify({ dataDir: './data', broker: { url: 'mqtt://127.0.0.1:1883', embedded: false }, slotSeconds: 60, groups: GROUPS }),
  );
  return { dir, configPath };
}

function devicesFile(dir: string, body: object | string, name = 'devices.json'): string {
  const path = join(dir, name);
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body));
  return path;
}

const read = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

async function inXs(configs: { config: unknown; platform: 'esp32' | 'lin' }[]) {
  const worker = await startXsWorker({
    bundle: await bundle(new URL('./fixtures/validate-device-config-entry.ts', import.meta.url).pathname),
  });
  try {
    const replies = [];
    for (const c of configs) replies.push(await worker.issue(c));
    return replies;
  } finally {
    await worker.close();
  }
}

test('an esp32/nodemcu meter with a PZEM-004T and one with a CT clamp get configs the ESP32 entry accepts in XS, with their Wi-Fi in the mcconfig arguments', async (t) => {
  const { dir, configPath } = layout();
  const devices = devicesFile(dir, {
    defaults: { board: 'esp32/nodemcu', sensor: { kind: 'pzem004t', address: 7 }, wifi: WIFI, brokerUrl: 'mqtts://192.168.1.10:8883' },
    meters: {
      m2: { sensor: { kind: 'ct-clamp', pin: 34, ampsPerCount: 0.0122 } },
      m3: { board: 'lin', sensor: { kind: 'simulated', seed: 42 } },
    },
  });
  const out = join(dir, 'out');
  await testProvision(configPath, out, undefined, devices);

  const m1 = read(join(out, 'meters/m1/config.json'));
  t.deepEqual(m1.sensor, { kind: 'pzem004t', address: 7 });
  t.is(m1.broker.url, 'mqtts://192.168.1.10:8883');
  // The meter trusts the deployment CA alone, and its whole configuration still fits one preference.
  t.is(m1.broker.ca, pemToDerHex((await sharedTls()).ca.cert));
  t.true(JSON.stringify(m1).length < MAX_PREFERENCE_BYTES);
  // The CT clamp replaces the default PZEM settings rather than merging the PZEM's address into it.
  t.deepEqual(read(join(out, 'meters/m2/config.json')).sensor, { kind: 'ct-clamp', pin: 34, ampsPerCount: 0.0122 });
  t.deepEqual(read(join(out, 'meters/m1/device.json')), { board: 'esp32/nodemcu', platform: 'esp32', manifest: 'manifests/esp32' });

  const args = readFileSync(join(out, 'meters/m1/mcconfig.args'), 'utf8').trimEnd().split('\n');
  t.deepEqual(firmwareConfigFromMcconfig(args[0]), m1);
  t.deepEqual(args.slice(1), [`ssid=${WIFI.ssid}`, `password=${WIFI.password}`]);
  t.is(statSync(join(out, 'meters/m1/mcconfig.args')).mode & 0o777, 0o600);

  // lin: the simulator's own preference file, and no Wi-Fi.
  const m3 = read(join(out, 'meters/m3/config.json'));
  t.deepEqual(read(join(out, 'meters/m3/modpreferences.json')), { meterveil: { config: JSON.stringify(m3) } });
  t.is(readFileSync(join(out, 'meters/m3/mcconfig.args'), 'utf8').trimEnd().split('\n').length, 1);
  t.is(m3.sensor.seed, 42);

  const replies = await inXs([
    { config: m1, platform: 'esp32' },
    { config: read(join(out, 'meters/m2/config.json')), platform: 'esp32' },
    { config: m3, platform: 'lin' },
    { config: m3, platform: 'esp32' },
  ]);
  t.deepEqual(replies.slice(0, 3), [
    { accepted: true, meterId: 'm1', sensor: 'pzem004t', broker: 'mqtts://192.168.1.10:8883' },
    { accepted: true, meterId: 'm2', sensor: 'ct-clamp', broker: 'mqtts://192.168.1.10:8883' },
    { accepted: true, meterId: 'm3', sensor: 'simulated', broker: 'mqtts://192.168.1.10:8883' },
  ]);
  // The check can fail: a simulated household is refused by the ESP32 entry.
  t.like(replies[3], { accepted: false, reason: 'invalid-config' });
});

test('meters without a board are simulated, each with the household the simulated feeders assume for it', async (t) => {
  const { dir, configPath } = layout();
  const out = join(dir, 'out');
  await testProvision(configPath, out);
  const seeds = new Set<number>();
  for (const meterId of GROUPS[0].members) {
    const sensor = read(join(out, 'meters', meterId, 'config.json')).sensor;
    t.deepEqual(sensor, { kind: 'simulated', ...householdOf(meterId) });
    seeds.add(sensor.seed);
    t.false(existsSync(join(out, 'meters', meterId, 'device.json')));
  }
  t.is(seeds.size, GROUPS[0].members.length);
});

test('a fleet CSV gives per-meter boards and sensors over the JSON defaults; per-meter JSON entries win over the CSV', async (t) => {
  const { dir, configPath } = layout();
  devicesFile(
    dir,
    [
      'meter,board,sensor,address,replyTimeoutMs,pin,ampsPerCount,ssid,wifiPassword',
      'm1,,pzem004t,3,300,,,,',
      'm2,,ct-clamp,,,35,0.02,,',
      'm4,lin,simulated,,,,,,',
    ].join('\n'),
    'fleet.csv',
  );
  const devices = devicesFile(dir, {
    defaults: { board: 'esp32/esp32_thing', sensor: { kind: 'pzem004t' }, wifi: WIFI },
    fleet: 'fleet.csv',
    meters: { m2: { sensor: { ampsPerCount: 0.03 } } },
  });
  const out = join(dir, 'out');
  await testProvision(configPath, out, undefined, devices);
  t.deepEqual(read(join(out, 'meters/m1/config.json')).sensor, { kind: 'pzem004t', address: 3, replyTimeoutMs: 300 });
  t.deepEqual(read(join(out, 'meters/m2/config.json')).sensor, { kind: 'ct-clamp', pin: 35, ampsPerCount: 0.03 });
  t.deepEqual(read(join(out, 'meters/m3/config.json')).sensor, { kind: 'pzem004t' });
  t.is(read(join(out, 'meters/m4/device.json')).board, 'lin');
  t.is(read(join(out, 'meters/m3/device.json')).board, 'esp32/esp32_thing');
});

test('what a board would refuse is refused at provisioning, by name, and nothing is written', async (t) => {
  const cases: [object | string, string, RegExp][] = [
    [
      { defaults: { board: 'esp32/nodemcu', wifi: WIFI } },
      'meter-would-refuse',
      /m1 \(esp32\/nodemcu\): invalid-config: sensor.kind: "simulated" is for the lin simulator/,
    ],
    [{ defaults: { board: 'esp32/nodemcu', sensor: { kind: 'pzem004t' } } }, 'meter-would-refuse', /wifi is required/],
    [{ defaults: { board: 'lin', sensor: { kind: 'pzem004t' } } }, 'meter-would-refuse', /lin simulator has no sensor hardware/],
    [
      { defaults: { board: 'esp32/nodemcu', sensor: { kind: 'pzem004t' }, wifi: WIFI, brokerUrl: 'wss://192.168.1.10:443' } },
      'bad-device-settings',
      /brokerUrl: wss:\/\/ is not supported/,
    ],
    [
      { defaults: { board: 'esp32/nodemcu', sensor: { kind: 'pzem004t' }, wifi: WIFI, brokerUrl: 'mqtt://192.168.1.10:1883' } },
      'plain-off-loopback',
      /brokerUrl: mqtt:\/\/ to 192.168.1.10 would cross the network unencrypted/,
    ],
    [{ defaults: { board: 'esp32/nodemcu', sensor: { kind: 'ct-clamp', pin: 34 }, wifi: WIFI } }, 'meter-would-refuse', /ampsPerCount/],
    [{ defaults: { board: 'esp32/nodemcu', sensor: { kind: 'pzem004t', address: 300 }, wifi: WIFI } }, 'meter-would-refuse', /address/],
    [{ defaults: { board: 'esp8266' } }, 'bad-device-settings', /defaults.board/],
    [{ defaults: { wifi: { ssid: 'x', password: 'short' } } }, 'bad-device-settings', /wifi.password/],
    [{ meters: { m9: { board: 'lin' } } }, 'bad-device-settings', /m9: no group lists this meter/],
    [{ defaults: { boards: 'lin' } }, 'bad-device-settings', /unknown key "boards"/],
    ['meter,colour\nm1,red\n', 'bad-device-settings', /unknown column "colour"/],
    ['meter,address\nm1,three\n', 'bad-device-settings', /row 2, address: "three" is not a number/],
  ];
  for (const [body, reason, message] of cases) {
    const { dir, configPath } = layout();
    const devices = devicesFile(dir, body, typeof body === 'string' ? 'fleet.csv' : 'devices.json');
    const out = join(dir, 'out');
    const error = await t.throwsAsync(() => testProvision(configPath, out, undefined, devices), { instanceOf: MeterveilError });
    t.is(error!.reason as string, reason, JSON.stringify(body));
    t.regex(error!.message, message);
    t.false(existsSync(out), 'nothing written');
  }
});

test('provision --devices on the command line: one line naming the meter and the fault, exit 1', async (t) => {
  const { dir, configPath } = layout();
  const devices = devicesFile(dir, { defaults: { board: 'esp32/nodemcu', sensor: { kind: 'pzem004t' } } });
  const failed = await run(process.execPath, [
    bin,
    'provision',
    '--config',
    configPath,
    '--out',
    join(dir, 'out'),
    '--devices',
    devices,
  ]).catch((e) => e as { code: number; stderr: string });
  t.is((failed as { code: number }).code, 1);
  t.is((failed as { stderr: string }).stderr.trim().split('\n').length, 1);
  t.regex((failed as { stderr: string }).stderr, /^meterveil: meter-would-refuse: meter m1 \(esp32\/nodemcu\): wifi is required/);
});
