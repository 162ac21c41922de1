/**
 * Refusals that a user can provoke with the files a role opens reach the terminal as one line,
 * `meterveil: reason: explanation`, with exit code 1: real processes, real SQLite files, a port
 * already taken.
 */
import test from 'ava';
import { writeFileSync } from 'node:fs';
import { aggregatorStorePath } from '../../host/aggregator/run.ts';
import { AggregatorStore } from '../../host/aggregator/store.ts';
import { providerStorePath } from '../../host/provider/run.ts';
import { ProviderStore } from '../../host/provider/store.ts';
import { deploy } from '../../tools/pipeline/deployment.ts';
import { testThresholdKeySet } from '../helpers/test-keys.ts';
import { runCli } from '../helpers/cli.ts';

const cli = (...args: string[]) => runCli(args, { timeoutMs: 60_000, exact: true });

const deployment = deploy({
  groups: [
    { id: 'g1', members: ['m1', 'm2'], feeder: 'f1', k: 2 },
    { id: 'g2', members: ['m3', 'm4'], feeder: 'f2', k: 2 },
  ],
});
const another = deploy({ groups: [{ id: 'g1', members: ['m1', 'm2'], feeder: 'f1', k: 2 }] });
test.after.always(async () => Promise.all([(await deployment).cleanup(), (await another).cleanup()]));

test("an aggregator given another group's SQLite file refuses with store-mismatch on one line", async (t) => {
  const { config, configPath } = await deployment;
  new AggregatorStore(aggregatorStorePath(config, 'g1'), { groupId: 'g2' }).close();
  const r = await cli('aggregator', '-c', configPath, '--group', 'g1');
  t.is(r.code, 1);
  t.is(r.stderr, 'meterveil: store-mismatch: this aggregator store belongs to groupId g2, not g1\n');
});

test("a provider given another deployment's SQLite file refuses with store-mismatch on one line", async (t) => {
  const { config, configPath, publicKey } = await deployment;
  new ProviderStore(providerStorePath(config), ['0123456789abcdef']).close();
  const r = await cli('provider', '-c', configPath, '--port', '0');
  t.is(r.code, 1);
  t.is(r.stderr, `meterveil: store-mismatch: this provider store belongs to key 0123456789abcdef, not ${publicKey.keyId}\n`);
});

test("a provider given an aggregator's SQLite file refuses with store-mismatch on one line", async (t) => {
  const { config, configPath } = await another;
  new AggregatorStore(providerStorePath(config), { groupId: 'g1' }).close();
  const r = await cli('provider', '-c', configPath, '--port', '0');
  t.is(r.code, 1);
  t.is(r.stderr, "meterveil: store-mismatch: this is the aggregator's store, not the provider's\n");
});

test('a role whose SQLite file is not a database refuses with store-unreadable on one line', async (t) => {
  const { config, configPath } = await deployment;
  const path = aggregatorStorePath(config, 'g2');
  writeFileSync(path, 'these are not the slots you are looking for\n'.repeat(10));
  const r = await cli('aggregator', '-c', configPath, '--group', 'g2');
  t.is(r.code, 1);
  t.is(r.stderr, `meterveil: store-unreadable: ${path}: file is not a database\n`);
});

test('start whose embedded broker cannot listen (the port is taken) exits with cannot-listen on one line', async (t) => {
  // The deployment's own embedded broker holds the configured port.
  const held = await deploy({ groups: [{ id: 'g1', members: ['m1', 'm2'], feeder: 'f1', k: 2 }] });
  t.teardown(() => held.cleanup());
  const r = await cli('start', '-c', held.configPath);
  t.is(r.code, 1, 'exits instead of hanging on');
  t.is(r.stderr, `meterveil: cannot-listen: ${held.config.broker.url.replace('mqtt://', '')}: EADDRINUSE\n`);
  t.is(r.stdout, '');
});

test('start asked for single-key mode with a threshold config, or for both modes, refuses on one line', async (t) => {
  const threshold = await deploy({
    groups: [{ id: 'g1', members: ['m1', 'm2'], feeder: 'f1', k: 2 }],
    threshold: { set: testThresholdKeySet(2, 3), timeoutMs: 5000, retryMs: 1000 },
  });
  t.teardown(() => threshold.cleanup());
  const r = await cli('start', '--single-key', '-c', threshold.configPath);
  t.is(r.code, 1);
  t.is(
    r.stderr,
    `meterveil: bad-argument: --single-key, but provider.decryption in ${threshold.configPath} is threshold mode; drop --single-key or use another config\n`,
  );
  const both = await cli('start', '--single-key', '--threshold', '2-of-3', '-c', threshold.configPath);
  t.is(both.code, 2);
  t.regex(both.stderr, /^meterveil: bad-argument: --single-key and --threshold exclude each other\n$/);
});

test('start --scheme masked refuses, on one line, a Paillier config, --custodians that differ from the config or stand alone, and --threshold', async (t) => {
  const groups = [{ id: 'g1', members: ['m1', 'm2'], feeder: 'f1', k: 2 }];
  const paillier = await deploy({ groups });
  t.teardown(() => paillier.cleanup());
  const masked = await deploy({ groups, masked: {} });
  t.teardown(() => masked.cleanup());
  const [wrongScheme, wrongCustodians, alone, withThreshold, one] = await Promise.all([
    cli('start', '--scheme', 'masked', '-c', paillier.configPath),
    cli('start', '--scheme', 'masked', '--custodians', '3', '-c', masked.configPath),
    cli('start', '--custodians', '3', '-c', masked.configPath),
    cli('start', '--scheme', 'masked', '--threshold', '2-of-3'),
    cli('start', '--scheme', 'masked', '--custodians', '1'),
  ]);
  t.is(wrongScheme.code, 1);
  t.is(
    wrongScheme.stderr,
    `meterveil: bad-argument: --scheme masked, but ${paillier.configPath} has scheme "paillier"; edit it or use another config\n`,
  );
  t.is(wrongCustodians.code, 1);
  t.regex(wrongCustodians.stderr, /^meterveil: bad-argument: --custodians 3 differs from provider.decryption in \S+; edit it/);
  t.is(alone.code, 2);
  t.regex(alone.stderr, /^meterveil: bad-argument: --custodians goes with --scheme masked; Paillier takes --threshold t-of-n\n$/);
  t.is(withThreshold.code, 2);
  t.regex(withThreshold.stderr, /^meterveil: bad-argument: --scheme masked is n of n: give --custodians N, not --threshold\n$/);
  t.is(one.code, 2);
  t.regex(one.stderr, /^meterveil: bad-argument: --custodians must be a number of custodians from 2 to 99\n$/);
});
