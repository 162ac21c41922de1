/**
 * `meterveil gc --role ROLE --config FILE` as an operator runs it: it collects a role's file by
 * its retention and prints one JSON line per file; a bad role, a missing file and another role's
 * file are refused on one line with their reason.
 */
import test from 'ava';
import { copyFileSync } from 'node:fs';
import { aggregatorStorePath } from '../../host/aggregator/run.ts';
import { AggregatorStore } from '../../host/aggregator/store.ts';
import { providerStorePath } from '../../host/provider/run.ts';
import { deploy } from '../../tools/pipeline/deployment.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { runCli } from '../helpers/cli.ts';

const cli = (...args: string[]) => runCli(args, { timeoutMs: 60_000, exact: true });

test('gc collects an aggregator file past its retention and says what it did; bad roles, missing and foreign files are refused by name', async (t) => {
  const d = await deploy({ keyPair: testKeyPair(0), groups: [{ id: 'g1', members: ['m1', 'm2'], feeder: 'f1', k: 2 }] });
  t.teardown(() => d.cleanup());
  const { config, configPath } = d;
  const store = new AggregatorStore(aggregatorStorePath(config, 'g1'), { groupId: 'g1' });
  // Slots 10..14 (of 1970) closed and published long ago; slot 20 is still open, at any age.
  for (const slot of [10, 11, 12, 13, 14, 20]) {
    for (const m of ['m1', 'm2']) store.recordSeen(slot, m, d.publicKey.keyId, slot, 0);
    store.saveOpenSlot(slot, d.publicKey.keyId, new Uint8Array([1]), 2);
    if (slot < 20) {
      store.closeSlot(slot, d.publicKey.keyId, 'closing', null, new Uint8Array([1]), 0);
      store.markPublished(slot, d.publicKey.keyId);
    }
  }
  store.close();

  const r = await cli('gc', '--role', 'aggregator', '--config', configPath);
  t.is(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  t.is(lines.length, 1);
  t.like(lines[0], { role: 'aggregator', file: aggregatorStorePath(config, 'g1'), collected: { seen: 10, slots: 5 } });

  t.like(await cli('gc', '--role', 'meter', '--config', configPath), {
    code: 2,
    stderr: 'meterveil: bad-argument: --role must be one of aggregator, provider, custodian\n',
  });
  const missing = await cli('gc', '--role', 'provider', '--config', configPath);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /^meterveil: store-unreadable: .*provider\.sqlite: no such file/);
  copyFileSync(aggregatorStorePath(config, 'g1'), providerStorePath(config));
  t.like(await cli('gc', '--role', 'provider', '--config', configPath), {
    code: 1,
    stderr: "meterveil: store-mismatch: this is the aggregator's store, not the provider's\n",
  });
});
