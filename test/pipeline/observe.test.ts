/**
 * What an operator watches of a running `meterveil start` (threshold mode, 2 of 3 custodians,
 * the fixture key, no simulated fleet: Node meters report instead): every role's /metrics, whose
 * counters move as reports are accepted and as a report injected over the broker is refused; and
 * the JSON logs of every role, which name groups, slots and reasons and never a reading.
 */
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reportTopic } from '../../firmware/protocol/report.ts';
import { loadConfig } from '../../host/config/load.ts';
import { readSecrets } from '../../host/config/secrets.ts';
import { connectRole } from '../../host/mqtt/client.ts';
import { slotAt, slotStartMs } from '../../host/protocol/slots.ts';
import { writeThresholdKeySet } from '../../host/threshold/key-files.ts';
import { freePort, freePortRange, ids, nodeMeterOf } from '../../tools/pipeline/deployment.ts';
import type { NodeMeter } from '../../host/simulate/node-meter.ts';
import { startCli } from '../helpers/cli.ts';
import { until } from '../helpers/poll.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';
import { scrape, value, type Sample } from '../helpers/prometheus.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('every role of a running start serves /metrics, whose counters move as reports are accepted and refused, with no meter in a label; every role logs JSON with no reading of a meter', async (t) => {
  t.timeout(120_000, 'start-up of six roles, then two wall-clock slots of 2 s with their lateness and the custodians');
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-observe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const set = testThresholdKeySet(2, 3);
  writeThresholdKeySet(join(dir, 'keys'), set);
  const members = ids('m', 4);
  const httpPort = await freePort();
  // The broker, three custodians, the aggregator, the feeders.
  const metricsPort = await freePortRange(6);
  const configPath = join(dir, 'meterveil.json');
  writeFileSync(
    configPath,
    JSON.stringify({
      dataDir: '.',
      broker: { url: `mqtt://127.0.0.1:${await freePort()}`, embedded: true },
      slotSeconds: 2,
      latenessSeconds: 1,
      skewSeconds: 2,
      packing: { readings: 1, maxPowerWatts: 100_000 },
      http: { host: '127.0.0.1', port: httpPort },
      metrics: { host: '127.0.0.1', port: metricsPort },
      provider: { decryption: { mode: 'threshold', threshold: 2, custodians: 3, timeoutMs: 5000, retryMs: 1000 } },
      groups: [{ id: 'street', members, feeder: 'feeder-street', k: 3 }],
    }),
  );

  const start = startCli(t, ['start', '--no-simulate', '--config', configPath], { cwd: dir });
  const said = () => `\n${start.output}`;
  await until(() => /Ctrl-C stops everything/.test(start.output), 'start running', 60_000, said);
  // The provider's /metrics is for readers: the scripts token start made.
  const token = (JSON.parse(readFileSync(join(dir, 'keys/api-readers.json'), 'utf8')) as { readers: Record<string, string> }).readers
    .scripts;

  // The broker takes the first port, then custodians 1..3, the aggregator, the feeders.
  const at = (offset: number) => `http://127.0.0.1:${metricsPort + offset}/metrics`;
  const urls = {
    provider: `http://127.0.0.1:${httpPort}/metrics`,
    broker: at(0),
    'custodian-1': at(1),
    'custodian-2': at(2),
    'custodian-3': at(3),
    aggregator: at(4),
    feeders: at(5),
  };
  t.regex(
    start.output,
    new RegExp(`metrics: ${urls.provider} \\(provider\\), http://127\\.0\\.0\\.1:${metricsPort}\\.\\.${metricsPort + 5}/metrics`),
  );
  const scrapeAll = async () =>
    Object.fromEntries(
      await Promise.all(
        Object.entries(urls).map(async ([role, url]) => [role, await scrape(url, role === 'provider' ? token : undefined)] as const),
      ),
    ) as Record<keyof typeof urls, Sample[]>;
  const before = await scrapeAll();
  for (const [role, all] of Object.entries(before)) {
    t.true(value(all, 'process_cpu_seconds_total') > 0, `${role} has process metrics`);
    t.true(
      all.every((s) => s.labels.role === (role.startsWith('custodian') ? 'custodian' : role === 'feeders' ? 'feeder' : role)),
      `${role} labels its role`,
    );
  }
  t.is(value(before.aggregator, 'meterveil_aggregator_reports_accepted_total', { group: 'street' }), 0);

  const config = loadConfig(configPath);
  const secrets = readSecrets(config.keys.secrets);
  const meters: NodeMeter[] = members.map((m) => nodeMeterOf({ config, secrets, publicKey: set.publicKey.paillier }, m, ['street']));
  t.teardown(() => Promise.all(meters.map((m) => m.close())));
  await Promise.all(meters.map((m) => m.connect()));

  // A report that is no report, from a meter's own credentials on its own topic.
  meters[0].publishRaw(reportTopic('street', 'm1'), new TextEncoder().encode('{"not":"a report"}'));
  // A client with a wrong password.
  const intruder = connectRole({ url: config.broker.url, username: 'm2', password: 'wrong', persistent: false });
  intruder.on('error', () => {});
  t.teardown(() => intruder.end(true));

  // Two slots: each meter's readings, and its total over both, are what no log line may hold.
  const readings = [4821, 3217].map((base) => members.map((_m, i) => base + 1111 * i));
  const first = slotAt(Date.now(), config.slotSeconds) + 1;
  for (const [n, slotReadings] of readings.entries()) {
    await sleep(slotStartMs(first + n, config.slotSeconds) - Date.now() + 20);
    await Promise.all(meters.map((m, i) => m.report(first + n, [BigInt(slotReadings[i])])));
  }
  const after = await until(
    async () => {
      await sleep(250);
      const all = await scrapeAll();
      return value(all.provider, 'meterveil_provider_slots_decrypted_total', { group: 'street' }) >= 2 && all;
    },
    `slots ${first} and ${first + 1} decrypted`,
    30_000,
    said,
  );
  t.is(value(after.aggregator, 'meterveil_aggregator_reports_accepted_total'), 8);
  // (A meter's resend that crossed its acknowledgement counts as a duplicate besides.)
  t.is(value(before.aggregator, 'meterveil_aggregator_reports_refused_total', { reason: 'unsupported-version' }), 0);
  t.is(value(after.aggregator, 'meterveil_aggregator_reports_refused_total', { reason: 'unsupported-version' }), 1, 'the injected report');
  t.is(value(after.aggregator, 'meterveil_aggregator_slots_closed_total', { state: 'published' }), 2);
  t.is(value(after.aggregator, 'meterveil_aggregator_slot_closed_seconds_count'), 2);
  t.true(value(after.broker, 'meterveil_broker_refused_total', { reason: 'bad-credentials' }) >= 1, 'the wrong password');
  t.true(value(after.broker, 'meterveil_broker_clients') >= 9, 'roles and meters connected');
  t.true(
    value(after.broker, 'meterveil_broker_messages_published_total') > value(before.broker, 'meterveil_broker_messages_published_total'),
  );
  t.is(value(after.provider, 'meterveil_provider_slot_stored_seconds_count', { group: 'street' }), 2);
  t.is(value(after.provider, 'meterveil_provider_decryption_seconds_count', { mode: 'threshold', outcome: 'decrypted' }), 2);
  const given = (['custodian-1', 'custodian-2', 'custodian-3'] as const).map((c) =>
    value(after[c], 'meterveil_custodian_partials_given_total'),
  );
  t.true(given.reduce((a, b) => a + b) >= 4, `two partials a slot at least (${given})`);
  t.true(value(after.feeders, 'meterveil_feeder_readings_published_total', { feeder: 'feeder-street' }) >= 1);
  t.is(value(after.provider, 'meterveil_provider_meters', { state: 'never' }), 4, 'Node meters send no health status');

  const labelValues = Object.values(after).flatMap((all) => all.flatMap((s) => Object.values(s.labels)));
  t.deepEqual(
    labelValues.filter((v) => members.includes(v)),
    [],
    'no label is a meter id',
  );

  start.signal('SIGINT');
  t.is(await start.exit, 0);

  // Every line of every role's log file, and of start's own output, is a JSON record with its role.
  const logDir = join(dir, 'logs');
  const lines = [
    ...start.output.split('\n'),
    ...readdirSync(logDir).flatMap((file) => readFileSync(join(logDir, file), 'utf8').split('\n')),
  ].filter((line) => line !== '');
  const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  t.deepEqual([...new Set(records.map((r) => r.role))].sort(), ['aggregator', 'broker', 'custodian', 'feeder', 'provider', 'start']);
  t.true(records.every((r) => typeof r.level === 'string' && typeof r.time === 'string' && typeof r.msg === 'string'));
  // start shows these lines too, as they came; once each in the provider's log file.
  const providerLog = readFileSync(join(logDir, 'provider.log'), 'utf8').trim().split('\n');
  const decrypted = providerLog.map((line) => JSON.parse(line) as Record<string, unknown>).filter((r) => r.total !== undefined);
  t.deepEqual(
    decrypted.map((r) => [r.group, r.slot, r.total]),
    readings.map((slotReadings, n) => ['street', first + n, String(slotReadings.reduce((a, b) => a + b))]),
    "the group's totals are logged, with group and slot",
  );
  t.true(
    records.some(
      (r) => r.role === 'aggregator' && r.group === 'street' && r.slot === first && /published with 4 contributors/.test(String(r.msg)),
    ),
  );
  // No reading of one meter, nor one meter's total over the two slots, in any log line (as mWh or as Wh).
  const perMeter = [...readings.flat(), ...members.map((_m, i) => readings[0][i] + readings[1][i])];
  for (const mwh of perMeter) {
    const pattern = new RegExp(`(?<![\\d.])(${mwh}|${(mwh / 1000).toFixed(1)} ?Wh)(?![\\d])`);
    t.deepEqual(
      lines.filter((line) => pattern.test(line)),
      [],
      `no log line holds ${mwh} mWh`,
    );
  }
});
