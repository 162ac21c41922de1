/**
 * The load generator, small: tens of meters on a generated deployment (real 2048-bit key, real
 * broker, the roles as processes), a few short slots, some identities on held connections and the
 * rest on short-lived ones; every slot is decrypted once with the right totals. It refuses hosts
 * off loopback before it starts anything, and its pool hands each precomputed value out once.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterveilError } from '../../firmware/errors.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { OneTimePool } from '../../host/load/randomness-pool.ts';
import { loadPlacement } from '../../host/load/layout.ts';
import { runLoad, type LoadOptions } from '../../host/load/run.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { logCollector } from '../helpers/log-collector.ts';

const small = (over: Partial<LoadOptions> = {}): LoadOptions => ({
  meters: 30,
  slotSeconds: 2,
  durationSeconds: 6,
  groupSize: 10,
  broker: 'embedded',
  host: '127.0.0.1',
  held: 20,
  rotating: 4,
  spread: 0.25,
  log: logCollector().log,
  ...over,
});

test('a small run: every slot of every group decrypted once, with the count and totals the meters encrypted', async (t) => {
  const r = await runLoad(small());
  t.is(r.groups, 3);
  t.is(r.slots, 3);
  t.is(r.reports, 90);
  t.deepEqual(r.verdict, {
    groupSlots: 9,
    decrypted: 9,
    correct: 9,
    wrongTotals: 0,
    undecrypted: 0,
    lost: 0,
    refused: 0,
    notAcknowledged: 0,
    doubled: 0,
  });
  t.true(r.complete);
  t.is(r.unacknowledged, 0);
  // Ten identities had no connection of their own: they took turns, four at a time.
  t.is(r.held, 20);
  t.true(r.peakConnections > 20 && r.peakConnections <= 24, `peak ${r.peakConnections}`);
  // One precomputed value per report, each used once, none left over to serve again.
  t.is(r.poolMade, 90);
  t.is(r.poolTaken, 90);
  t.true(r.latencyP99Ms < (r.latenessSeconds + 2) * 1000);
});

test('placed: groups run two to an aggregator process, every slot still decrypted once with the right totals', async (t) => {
  const r = await runLoad(small({ meters: 20, groupSize: 5, held: 20, durationSeconds: 4, groupsPerAggregator: 2 }));
  t.is(r.groups, 4);
  t.is(r.aggregatorProcesses, 2);
  t.is(r.verdict.correct, r.verdict.groupSlots);
  t.is(r.verdict.groupSlots, 4 * r.slots);
  t.true(r.complete);
});

test('the placement takes the groups in runs of the given size, the last one shorter; none for one group a process', (t) => {
  t.deepEqual(loadPlacement(['g1', 'g2', 'g3', 'g4', 'g5'], 2), { la0001: ['g1', 'g2'], la0002: ['g3', 'g4'], la0003: ['g5'] });
  t.is(loadPlacement(['g1', 'g2'], 1), undefined);
});

test('refuses a number of groups per aggregator process that is not a whole one or more', async (t) => {
  for (const groupsPerAggregator of [0, 1.5, -2]) {
    const e = await t.throwsAsync(runLoad(small({ groupsPerAggregator })), { instanceOf: MeterveilError });
    t.is(e?.reason, 'bad-argument');
  }
});

test('refuses to run anywhere but loopback, before it starts anything', async (t) => {
  for (const host of ['10.0.0.1', '0.0.0.0', 'example.com', '192.168.1.20', '::']) {
    const e = await t.throwsAsync(runLoad(small({ host })), { instanceOf: MeterveilError });
    t.is(e.reason, 'load-not-loopback', host);
  }
});

test('the pool hands each precomputed value out once and then refuses, never reusing one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-pool-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pair = testKeyPair(1);
  const { publicPath } = writeKeyPair(dir, pair);
  const pool = await OneTimePool.fill(publicPath, 40, { workers: 2 });
  t.is(pool.made, 40);
  const values = Array.from({ length: 40 }, () => pool.take());
  t.is(new Set(values).size, 40);
  // Each is an r^n of the key: it encrypts, and decrypts back.
  t.is(pair.privateKey.decrypt(pair.publicKey.encryptWithRn(7n, values[0])), 7n);
  const e = t.throws(() => pool.take(), { instanceOf: MeterveilError });
  t.is(e.reason, 'pool-empty');
  t.is(pool.taken, 40);
});
