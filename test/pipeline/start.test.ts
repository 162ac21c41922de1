/**
 * `meterveil start` as an operator runs it: the embedded broker, the roles as child processes and
 * the simulated fleet of XS meters in wall-clock time. The meters report from the first slot they
 * measure whole, and that first slot is decrypted for every group: the aggregators wait for the
 * meters still busy after boot instead of closing the slot short.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { freePort, ids } from '../../tools/pipeline/deployment.ts';
import { startCli } from '../helpers/cli.ts';
import { decryptedRecords, firstSlotDecrypted, startRecords } from './support/start-output.ts';
import { scrape, value } from '../helpers/prometheus.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { sharedTls, writeTlsFixture } from '../../tools/pipeline/tls-fixture.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

const run = promisify(execFile);

test('start prints decrypted totals of every group from the first slot the meters report, over TLS, with the dashboard’s token; stops on SIGINT', async (t) => {
  t.timeout(180_000, 'start-up of every role, XS meters with 2048-bit keys, and a first slot that may wait for boot stragglers');
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-start-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeKeyPair(join(dir, 'keys'), testKeyPair());
  const configPath = join(dir, 'meterveil.json');
  const httpPort = await freePort();
  const groups = [
    { id: 'north', members: ids('m', 5, 1), feeder: 'feeder-north', k: 3 },
    { id: 'south', members: ids('m', 5, 6), feeder: 'feeder-south', k: 3 },
  ];
  const config = {
    dataDir: '.',
    broker: { url: `mqtts://127.0.0.1:${await freePort()}`, embedded: true },
    slotSeconds: 5,
    http: { host: '127.0.0.1', port: httpPort },
    groups,
  };
  writeFileSync(configPath, JSON.stringify(config));
  // The certificates start would make on first run (three RSA keys), from the shared test set.
  writeTlsFixture(parseConfig(config, (p) => resolve(dir, p)).tls, await sharedTls());

  const start = startCli(t, ['start', '--config', configPath], { cwd: dir });
  const said = () => `\n${start.output}`;

  const records = () => startRecords(start);
  const first = await firstSlotDecrypted(start, groups, { running: 60_000, decrypted: 100_000 });
  const decrypted = () => decryptedRecords(start);
  t.deepEqual(
    decrypted().find((r) => r.group === 'north'),
    {
      ...decrypted().find((r) => r.group === 'north'),
      level: 'info',
      contributors: 5,
      members: 5,
    },
  );
  t.notRegex(start.output, /refused|suppressed/, 'no slot was refused or suppressed');
  const api = String(records().find((r) => r.role === 'provider' && /provider API on/.test(String(r.msg)))!.msg).replace(
    /^provider API on (\S+)\/api\/health$/,
    '$1',
  );
  // The dashboard's address, as start prints it, carries a reader's token in its fragment.
  const dashboard = records().find((r) => r.role === 'start' && String(r.msg).startsWith('dashboard: '));
  const [, page, token] =
    /^dashboard: (http:\/\/127\.0\.0\.1:\d+)\/#token=([A-Za-z0-9_-]{43}) /.exec(String(dashboard?.msg)) ?? t.fail(said()) ?? [];
  t.is(page, `http://127.0.0.1:${httpPort}`);
  t.is(api, page);
  const curl = async (...args: string[]) => (await run('curl', ['-sS', '-w', ' %{http_code}', ...args, `${api}/api/health`])).stdout;
  t.regex(await curl(), /^\{"error":"token-required",.*\} 401$/);
  t.regex(await curl('-H', `Authorization: Bearer ${token}`), /^\{"status":"ok",.*"broker":"connected".*\} 200$/);
  t.notRegex(start.output, /generated|made a certificate authority/, 'the given key and certificates were used');
  const metrics = await scrape(`${api}/metrics`, token);
  t.true(
    value(metrics, 'meterveil_provider_decryption_seconds_count', { mode: 'single', outcome: 'decrypted' }) >= 2,
    'the CRT decryptions are timed',
  );
  t.true(value(metrics, 'meterveil_provider_slots_decrypted_total') >= 2);
  t.is(decrypted()[0].slot, first, 'the first slot logged is the first one reported');

  start.signal('SIGINT');
  t.is(await start.exit, 0);
  t.deepEqual(
    records()
      .slice(-2)
      .map((r) => [r.role, r.msg]),
    [
      ['start', 'stopping...'],
      ['start', 'stopped'],
    ],
  );
  t.true(
    start.output.split('\n').every((line) => line === '' || line.startsWith('{')),
    'every line is a JSON record',
  );
});
