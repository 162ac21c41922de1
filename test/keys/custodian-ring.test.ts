/**
 * A custodian holding shares of two keys (a rotation), with real 2048-bit 2-of-3 keys and real
 * SQLite records: each request is answered with the share its key id names, parts of one
 * (group, slot) under the two keys must have disjoint contributors and are checked part by part
 * for differencing, an unknown key id is refused by name; a record written by a custodian with
 * one share is carried over. Each aggregate comes with its contributors' real reports.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { parseConfig } from '../../host/config/schema.ts';
import { Custodian } from '../../host/custodian/custodian.ts';
import { encodeRequest } from '../../host/decryption/messages.ts';
import { CustodianStore } from '../../host/custodian/store.ts';
import { evidenceTopic } from '../../host/protocol/topics.ts';
import { partialFromJson } from '../../host/threshold/codec.ts';
import { combinePartials } from '../../host/threshold/combine.ts';
import { custodianKeyOf, fixedKeys, verifiableAggregate, type VerifiableAggregate } from '../helpers/evidence.ts';
import { testThresholdKeySets } from '../helpers/test-keys.ts';
import type { ThresholdKeySet } from '../../host/threshold/dealer.ts';
import { recentSlot } from '../helpers/recent-slot.ts';

const keySets = testThresholdKeySets(2, 3, 3);
const meterKeys = fixedKeys(3);

function setup(t: { teardown(fn: () => void): void }) {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-custodian-ring-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(
    {
      dataDir: '.',
      groups: [
        { id: 'a', members: ['m1', 'm2', 'm3', 'm4'], feeder: 'fa', k: 2 },
        { id: 'b', members: ['m1', 'm2', 'm5', 'm6'], feeder: 'fb', k: 2 },
      ],
    },
    (p) => resolve(dir, p),
  );
  return { dir, config };
}

function aggregateOf(set: ThresholdKeySet, groupId: string, slot: number, readings: Record<string, bigint>): VerifiableAggregate {
  return verifiableAggregate(set.publicKey.paillier, meterKeys, groupId, slot, readings);
}

test('one custodian, two keys: the share the key id names; parts disjoint and checked part by part; a foreign key refused by name', async (t) => {
  const [oldSet, newSet, foreignSet] = keySets;
  const { dir, config } = setup(t);
  const custodianFor = (index: number) => {
    const store = new CustodianStore(
      join(dir, `custodian-${index}.sqlite`),
      { keyIds: [oldSet.publicKey.keyId, newSet.publicKey.keyId], index },
      'process',
    );
    t.teardown(() => store.close());
    return new Custodian({
      config,
      shares: [oldSet.shares[index - 1], newSet.shares[index - 1]],
      store,
      meterKey: custodianKeyOf(meterKeys, index),
      waitForAggregateMs: 100,
    });
  };
  const custodians = [custodianFor(1), custodianFor(2)];
  let request = 0;
  const ask = async ({ aggregate, evidence }: VerifiableAggregate) => {
    const answers = [];
    for (const c of custodians) {
      c.noteEvidence(evidenceTopic(aggregate.groupId), evidence);
      answers.push((await c.handleRequest(encodeRequest({ requestId: `r${++request}`, aggregate })))!);
    }
    return answers;
  };
  const decrypt = async (set: ThresholdKeySet, verifiable: VerifiableAggregate) => {
    const answers = await ask(verifiable);
    const { aggregate } = verifiable;
    const partials = answers.map((a) => (a.status === 'partial' ? partialFromJson(a.partial) : t.fail(JSON.stringify(a))));
    const c = BigInt('0x' + Buffer.from(aggregate.ciphertext).toString('hex'));
    return combinePartials(set.publicKey, c, partials as never).plaintext;
  };
  const refusals = async (aggregate: VerifiableAggregate) =>
    (await ask(aggregate)).map((a) => (a.status === 'refused' ? a.reason : 'partial'));

  const slot = recentSlot(4000, config.slotSeconds);
  t.is(await decrypt(oldSet, aggregateOf(oldSet, 'a', slot, { m1: 1n, m2: 2n })), 3n, 'old key, old shares');
  t.is(await decrypt(newSet, aggregateOf(newSet, 'a', slot, { m3: 30n, m4: 40n })), 70n, 'the other part, new shares');
  t.deepEqual(await refusals(aggregateOf(newSet, 'a', slot + 1, { m1: 1n, m2: 2n })), ['partial', 'partial']);
  t.deepEqual(
    await refusals(aggregateOf(oldSet, 'a', slot + 1, { m2: 2n, m3: 3n, m4: 4n })),
    ['overlapping-parts', 'overlapping-parts'],
    'm2 in both parts',
  );
  // a's parts {m1, m2} and {m3, m4} were each decrypted: b's {m1, m2, m5} would give m5's reading.
  t.deepEqual(await refusals(aggregateOf(newSet, 'b', slot, { m1: 1n, m2: 2n, m5: 5n })), ['cell-below-k', 'cell-below-k']);
  t.deepEqual(await refusals(aggregateOf(foreignSet, 'a', slot + 2, { m1: 1n, m2: 2n })), ['wrong-key-id', 'wrong-key-id']);
  const detail = (await ask(aggregateOf(foreignSet, 'a', slot + 3, { m1: 1n, m2: 2n })))[0];
  t.true(
    detail.status === 'refused' && detail.detail.includes(oldSet.publicKey.keyId) && detail.detail.includes(newSet.publicKey.keyId),
    'the refusal names the keys held',
  );
  t.throws(
    () => new Custodian({ config, shares: [oldSet.shares[0], newSet.shares[1]], store: undefined as never, meterKey: () => undefined }),
    {
      message: /one custodian holds one index/,
    },
  );
});

test('a record written with one share: helped rows keep their key id, the custodian index and key are checked', async (t) => {
  const [oldSet, newSet, foreignSet] = keySets;
  const { dir } = setup(t);
  const path = join(dir, 'custodian-2.sqlite');
  const old = new Database(path);
  old.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE helped (group_id TEXT NOT NULL, slot INTEGER NOT NULL, contributors TEXT NOT NULL, aggregate_hash TEXT NOT NULL,
      partial TEXT NOT NULL, helped_at INTEGER NOT NULL, PRIMARY KEY (group_id, slot));
    CREATE INDEX helped_by_slot ON helped (slot);`);
  old.prepare(`INSERT INTO meta VALUES ('share', ?)`).run(`${oldSet.publicKey.keyId}/2`);
  old
    .prepare('INSERT INTO helped VALUES (?, ?, ?, ?, ?, ?)')
    .run('a', 9, '["m1","m2"]', 'h', JSON.stringify({ keyId: oldSet.publicKey.keyId }), 1);
  old.close();

  t.throws(() => new CustodianStore(path, { keyIds: [foreignSet.publicKey.keyId], index: 2 }, 'process'), { message: /store-mismatch/ });
  t.throws(() => new CustodianStore(path, { keyIds: [oldSet.publicKey.keyId], index: 3 }, 'process'), {
    message: /store-mismatch: .* custodian 2/,
  });
  const store = new CustodianStore(path, { keyIds: [oldSet.publicKey.keyId, newSet.publicKey.keyId], index: 2 }, 'process');
  t.like(store.helped('a', 9, oldSet.publicKey.keyId), { contributors: ['m1', 'm2'], aggregateHash: 'h' });
  t.is(store.helped('a', 9, newSet.publicKey.keyId), undefined);
  store.close();
  // The new key is recorded: after the old one is retired the store still opens.
  t.notThrows(() => new CustodianStore(path, { keyIds: [newSet.publicKey.keyId], index: 2 }, 'process').close());
});
