/**
 * A provider store written before reservations had a key id (one key, no rotation) opens with the
 * key ring: a slot still waiting for the custodians keeps its place, under the key its aggregate
 * names. One written at layout version 1 (alerts of feeder deviations only) keeps its alerts and
 * takes alerts of other kinds.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ProviderStore } from '../../host/provider/store.ts';

test('reservations without a key id take the key id of their aggregate', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-provider-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'provider.sqlite');
  const keyId = '0123456789abcdef';
  const old = new Database(path);
  old.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE reservations (
      group_id TEXT NOT NULL, slot INTEGER NOT NULL, contributors TEXT NOT NULL, aggregate TEXT NOT NULL,
      aggregate_hash TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, reason TEXT, detail TEXT,
      received_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (group_id, slot));
    CREATE INDEX reservations_by_slot ON reservations (slot);`);
  old.prepare(`INSERT INTO meta VALUES (?, ?)`).run(`keyId.${keyId}`, keyId);
  old
    .prepare(`INSERT INTO reservations VALUES ('g', 12, '["m1","m2"]', ?, 'h', 'waiting', 2, 'not-enough-partials', 'timed out', 1, 2)`)
    .run(JSON.stringify({ v: 1, type: 'aggregate', groupId: 'g', slot: 12, keyId }));
  old.close();

  const store = new ProviderStore(path, [keyId, 'fedcba9876543210']);
  t.teardown(() => store.close());
  t.like(store.reservation('g', 12, keyId), { keyId, state: 'waiting', attempts: 2, contributors: ['m1', 'm2'], aggregateHash: 'h' });
  t.deepEqual(
    store.waitingReservations().map((r) => r.keyId),
    [keyId],
  );
  t.deepEqual(store.decryptedSetsForSlot(12), [{ group: 'g', contributors: ['m1', 'm2'] }]);
});

test('a version 1 file keeps its feeder-deviation alerts, served as before, and takes out-of-range alerts without a total', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-provider-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'provider.sqlite');
  const keyId = '0123456789abcdef';
  new ProviderStore(path, [keyId]).close();
  // The alerts table as version 1 wrote it, with one row.
  const v1 = new Database(path);
  v1.exec(`DROP TABLE alerts;
    CREATE TABLE alerts (
      id INTEGER PRIMARY KEY, group_id TEXT NOT NULL, slot INTEGER NOT NULL, kind TEXT NOT NULL,
      total TEXT NOT NULL, feeder TEXT NOT NULL, deviation REAL NOT NULL, missing INTEGER NOT NULL, created_at INTEGER NOT NULL,
      UNIQUE (group_id, slot, kind));
    INSERT INTO alerts VALUES (7, 'g', 40, 'feeder-deviation', '165', '200', 0.175, 0, 1000);`);
  v1.pragma('user_version = 1');
  v1.close();

  const store = new ProviderStore(path, [keyId]);
  t.teardown(() => store.close());
  const feederDeviation = { groupId: 'g', slot: 40, kind: 'feeder-deviation', total: 165n, feeder: 200n, deviation: 0.175, missing: 0 };
  t.deepEqual(store.alerts(10), [{ ...feederDeviation, detail: null, createdAt: 1000 }]);
  t.true(
    store.insertAlert({
      groupId: 'g',
      slot: 41,
      kind: 'out-of-range-total',
      total: null,
      feeder: null,
      deviation: null,
      missing: 1,
      detail: 'slot 0: negative or overflowed',
      createdAt: 2000,
    }),
  );
  t.like(store.alerts(10), [{ slot: 41, kind: 'out-of-range-total', total: null, feeder: null, deviation: null }, feederDeviation]);
  t.deepEqual([...store.alertSlots('g', 0, 100)].sort(), [40, 41]);
});
