/**
 * Every role's SQLite file opens the same way (host/store/sqlite.ts): its layout version in
 * `PRAGMA user_version`, migrations and the identity check in one transaction. A file from the
 * release before versions were recorded opens with its rows; a newer file, or one that belongs
 * to another group, key or custodian, is refused with a named reason and left as it was.
 */
import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MeterveilError } from '../../firmware/errors.ts';
import { AggregatorStore } from '../../host/aggregator/store.ts';
import { CustodianStore } from '../../host/custodian/store.ts';
import { ProviderStore } from '../../host/provider/store.ts';

const KEY = '0123456789abcdef';
const OTHER_KEY = 'fedcba9876543210';

function folder(t: { teardown: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-store-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const pragmaOf = (path: string, name: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma(name, { simple: true }) as number;
  } finally {
    db.close();
  }
};
const version = (path: string) => pragmaOf(path, 'user_version');

/** PRAGMA auto_vacuum: 0 none, 2 incremental. */
const INCREMENTAL = 2;
const autoVacuum = (path: string) => pragmaOf(path, 'auto_vacuum');

/** The file's tables and their columns, to see that a refused open changed nothing. */
const layout = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT name, sql FROM sqlite_master ORDER BY name`).all();
  } finally {
    db.close();
  }
};

const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof MeterveilError) return error.reason;
    throw error;
  }
  return 'accepted';
};

test('a new file of each role starts at its current layout version (the aggregator 3: counts of collected suppressions; the provider 4: coarse rows of downsampled slots), with incremental vacuum', (t) => {
  const dir = folder(t);
  new AggregatorStore(join(dir, 'a.sqlite'), { groupId: 'g' }).close();
  new ProviderStore(join(dir, 'p.sqlite'), [KEY]).close();
  new CustodianStore(join(dir, 'c.sqlite'), { keyIds: [KEY], index: 1 }, 'process').close();
  t.deepEqual(
    ['a', 'p', 'c'].map((f) => version(join(dir, `${f}.sqlite`))),
    [3, 4, 1],
  );
  t.deepEqual(
    ['a', 'p', 'c'].map((f) => autoVacuum(join(dir, `${f}.sqlite`))),
    [INCREMENTAL, INCREMENTAL, INCREMENTAL],
  );
});

test('a file the previous release wrote (no version recorded) opens with its rows and is migrated to the current version', (t) => {
  const dir = folder(t);
  const path = join(dir, 'aggregator.sqlite');
  const store = new AggregatorStore(path, { groupId: 'g' });
  store.recordSeen(7, 'm1', KEY, 1, 1000);
  store.saveOpenSlot(7, KEY, new Uint8Array([1, 2, 3]), 1);
  store.addRejections(new Map([['duplicate', 2]]));
  store.close();
  const old = new Database(path);
  old.pragma('user_version = 0');
  // Files of that release were written without incremental vacuum.
  old.pragma('auto_vacuum = NONE');
  old.exec('VACUUM');
  old.close();
  t.is(autoVacuum(path), 0);

  const reopened = new AggregatorStore(path, { groupId: 'g' });
  t.teardown(() => reopened.close());
  t.true(reopened.hasSeen(7, 'm1'));
  t.deepEqual(reopened.openSlots(), [{ slot: 7, keyId: KEY, product: new Uint8Array([1, 2, 3]), count: 1 }]);
  t.deepEqual(reopened.rejections(), { duplicate: 2 });
  t.deepEqual(reopened.reports(7, KEY), [null], 'a report accepted before the reports were kept');
  t.is(version(path), 3);
  t.is(autoVacuum(path), INCREMENTAL, 'rebuilt once by a VACUUM, so that collection can give pages back');
});

test('a file written by a newer layout is refused with store-version and left as it was', (t) => {
  const dir = folder(t);
  const path = join(dir, 'provider.sqlite');
  new ProviderStore(path, [KEY]).close();
  const newer = new Database(path);
  newer.pragma('user_version = 5');
  newer.close();
  const before = layout(path);
  t.is(
    refusal(() => new ProviderStore(path, [KEY])),
    'store-version',
  );
  t.is(version(path), 5);
  t.deepEqual(layout(path), before);
});

test('a file of another identity is refused with store-mismatch before it is migrated', (t) => {
  const dir = folder(t);
  const path = join(dir, 'provider.sqlite');
  const old = new Database(path);
  old.exec(`
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE reservations (
      group_id TEXT NOT NULL, slot INTEGER NOT NULL, contributors TEXT NOT NULL, aggregate TEXT NOT NULL,
      aggregate_hash TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, reason TEXT, detail TEXT,
      received_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, PRIMARY KEY (group_id, slot));`);
  old.prepare(`INSERT INTO meta VALUES ('keyId', ?)`).run(KEY);
  old.close();
  const before = layout(path);

  const error = t.throws(() => new ProviderStore(path, [OTHER_KEY]), { instanceOf: MeterveilError });
  t.is(error.reason, 'store-mismatch');
  t.is(error.message, `store-mismatch: this provider store belongs to key ${KEY}, not ${OTHER_KEY}`);
  t.deepEqual(layout(path), before, 'nothing migrated, nothing recorded');
  t.is(version(path), 0);

  const store = new ProviderStore(path, [KEY]);
  store.close();
  t.is(version(path), 4);

  const aggregatorPath = join(dir, 'aggregator.sqlite');
  new AggregatorStore(aggregatorPath, { groupId: 'north' }).close();
  t.is(
    refusal(() => new AggregatorStore(aggregatorPath, { groupId: 'south' })),
    'store-mismatch',
  );
  const custodianPath = join(dir, 'custodian.sqlite');
  new CustodianStore(custodianPath, { keyIds: [KEY], index: 1 }, 'process').close();
  t.is(
    refusal(() => new CustodianStore(custodianPath, { keyIds: [KEY], index: 2 }, 'process')),
    'store-mismatch',
  );
  t.is(
    refusal(() => new CustodianStore(custodianPath, { keyIds: [OTHER_KEY], index: 1 }, 'process')),
    'store-mismatch',
  );
});

test('an aggregator file from before key rotation is refused with store-version, untouched', (t) => {
  const dir = folder(t);
  const path = join(dir, 'aggregator.sqlite');
  const old = new Database(path);
  old.exec(`CREATE TABLE slots (slot INTEGER PRIMARY KEY, state TEXT NOT NULL, product BLOB NOT NULL, count INTEGER NOT NULL);`);
  old.close();
  const before = layout(path);
  t.is(
    refusal(() => new AggregatorStore(path, { groupId: 'g' })),
    'store-version',
  );
  t.deepEqual(layout(path), before);
});
