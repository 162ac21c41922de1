/**
 * A provider store written before reservations had a key id (one key, no rotation) opens with the
 * key ring: a slot still waiting for the custodians keeps its place, under the key its aggregate names.
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
