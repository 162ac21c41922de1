/**
 * `meterveil flash` as an operator runs it, short of the SDK (which CI does not have): the commands
 * it would run for an ESP32 and for lin, with the meter's provisioned arguments and no secret
 * printed, and the one-line refusals without MODDABLE, IDF_PATH, a board or a provisioned meter.
 * The SDK path itself is checked on lin by hand (docs/firmware.md, "meterveil flash").
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { testProvision } from '../../tools/pipeline/tls-fixture.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

const run = promisify(execFile);
const bin = new URL('../../bin/meterveil.js', import.meta.url).pathname;
const root = new URL('../..', import.meta.url).pathname.replace(/\/$/, '');
const WIFI = { ssid: 'grid lab', password: 'correct horse battery' };

const provisioned = (async () => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-flash-'));
  writeKeyPair(join(dir, 'data/keys'), testKeyPair());
  writeFileSync(
    join(dir, 'meterveil.json'),
    JSON.stringify({
      dataDir: './data',
      broker: { url: 'mqtt://127.0.0.1:1883', embedded: false },
      groups: [{ id: 'street', members: ['m1', 'm2', 'm3'], feeder: 'f1', k: 2 }],
    }),
  );
  writeFileSync(
    join(dir, 'devices.json'),
    JSON.stringify({
      defaults: { board: 'esp32/nodemcu', sensor: { kind: 'pzem004t' }, wifi: WIFI },
      meters: { m2: { board: 'lin', sensor: { kind: 'simulated' } }, m3: {} },
    }),
  );
  await testProvision(join(dir, 'meterveil.json'), join(dir, 'out'), undefined, join(dir, 'devices.json'));
  // An SDK folder with the tool flash looks for; nothing runs it here.
  const sdk = join(dir, 'moddable');
  mkdirSync(join(sdk, 'build/bin/lin/release'), { recursive: true });
  writeFileSync(join(sdk, 'build/bin/lin/release/mcconfig'), '');
  return { out: join(dir, 'out'), sdk };
})();

async function flash(args: string[], env: NodeJS.ProcessEnv) {
  const clean = { PATH: process.env.PATH, HOME: process.env.HOME };
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, 'flash', ...args], { env: { ...clean, ...env } });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

test('an ESP32 meter: mcconfig -d -m -p esp32/<board> in manifests/esp32 with its config and Wi-Fi, the port as UPLOAD_PORT, no secret printed', async (t) => {
  const { out, sdk } = await provisioned;
  const r = await flash(['--meter', 'm1', '--from', out, '--port', '/dev/ttyUSB0', '--dry-run'], {
    MODDABLE: sdk,
    IDF_PATH: '/opt/esp-idf',
  });
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), [
    '# bundle the firmware: build/moddable/esp32/main.js',
    '# build and flash for esp32/nodemcu',
    `(cd ${root}/manifests/esp32 && MODDABLE=${sdk} IDF_PATH=/opt/esp-idf UPLOAD_PORT=/dev/ttyUSB0 mcconfig -d -m -p esp32/nodemcu meterveilConfig=<from mcconfig.args> 'ssid=grid lab' password=<from mcconfig.args>)`,
  ]);
  const secrets = [JSON.parse(readFileSync(join(out, 'meters/m1/config.json'), 'utf8')).macKey, WIFI.password];
  for (const secret of secrets) t.false(r.stdout.includes(secret));
  const release = await flash(['--meter', 'm1', '--from', out, '--release', '--dry-run'], { MODDABLE: sdk, IDF_PATH: '/opt/esp-idf' });
  t.regex(release.stdout, / mcconfig -m -p esp32\/nodemcu /);
});

test('a lin meter: built for the simulator with a state folder of its own, then run under a virtual display when there is none', async (t) => {
  const { out, sdk } = await provisioned;
  const r = await flash(['--meter', 'm2', '--from', out, '--dry-run'], { MODDABLE: sdk });
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.is(
    lines[2],
    `(cd ${root}/manifests/lin && MODDABLE=${sdk} mcconfig -m -p lin -t build meterveilConfig=<from mcconfig.args> stateFolder=${out}/meters/m2/lin-state/)`,
  );
  t.is(
    lines[4],
    `(cd ${root} && MODDABLE=${sdk} xvfb-run -a stdbuf -o0 ${sdk}/build/bin/lin/release/mcsim ${sdk}/build/bin/lin/mc/release/lin/mc.so)`,
  );
  const withDisplay = await flash(['--meter', 'm2', '--from', out, '--platform', 'lin', '--dry-run'], { MODDABLE: sdk, DISPLAY: ':0' });
  t.regex(withDisplay.stdout.trim().split('\n')[4], /&& MODDABLE=\S+ stdbuf -o0 \S+\/mcsim /);
});

test('refusals: one line naming the variable or the fault and the docs page, exit 1 (2 for a bad argument), nothing run', async (t) => {
  const { out, sdk } = await provisioned;
  const cases: [string[], NodeJS.ProcessEnv, number, RegExp][] = [
    [['--meter', 'm1', '--from', out], {}, 1, /^meterveil: sdk-missing: MODDABLE is not set: .*docs\/firmware\.md#/],
    [['--meter', 'm1', '--from', out], { MODDABLE: join(out, 'nowhere') }, 1, /^meterveil: sdk-missing: .*mcconfig does not exist/],
    [['--meter', 'm1', '--from', out], { MODDABLE: sdk }, 1, /^meterveil: esp-idf-missing: IDF_PATH is not set/],
    [['--meter', 'm9', '--from', out], { MODDABLE: sdk }, 1, /^meterveil: flash-meter-unknown: /],
    [
      ['--meter', 'm1', '--from', out, '--board', 'lin'],
      { MODDABLE: sdk },
      1,
      /^meterveil: flash-board-mismatch: meter m1 was provisioned for esp32\/nodemcu/,
    ],
    [['--meter', 'm1', '--from', out, '--board', 'esp8266'], { MODDABLE: sdk }, 1, /^meterveil: flash-board-unknown: /],
    [['--meter', 'm1', '--from', out, '--platform', 'esp32'], { MODDABLE: sdk }, 2, /^meterveil: bad-argument: --platform takes only lin/],
  ];
  for (const [args, env, code, message] of cases) {
    const r = await flash(args, env);
    t.is(r.code, code, args.join(' '));
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    t.regex(r.stderr, message);
    t.is(r.stdout, '');
  }
});
