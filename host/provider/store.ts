/**
 * The provider's durable state: decrypted group totals (the series), refused aggregates with
 * their reasons, feeder readings, alerts and each meter's latest health status. (group, slot) is the primary key of the series, so
 * an aggregate can be decrypted and counted once only, whatever is redelivered after a restart.
 * In threshold mode an accepted aggregate is first reserved (table `reservations`, keyed by
 * (group, slot, key id): during a key rotation one slot may come in parts under two keys) while
 * the custodians are asked; the reservation is removed and the total stored in one transaction
 * when the answer is in.
 */
import type { MeterStatus } from '../../firmware/protocol/meter-status.ts';
import type { ContributorSet } from '../policy/disclosure.ts';
import { bindKeyIds, bindRole, META_TABLE } from '../store/identity.ts';
import { StoreFile, type MigrationContext, type Statements } from '../store/sqlite.ts';
import { SERIES_COARSE_TABLE } from './downsample.ts';
import { HeldComparisons, HELD_COMPARISONS_TABLE } from './held-comparisons.ts';
import { SeriesParts, SERIES_PARTS_TABLE } from './series-parts.ts';

export interface SeriesRow {
  groupId: string;
  slot: number;
  contributors: string[];
  total: bigint;
  readings: bigint[];
  aggregateHash: string;
  decryptedAt: number;
}

export interface RefusalRow {
  groupId: string | null;
  slot: number | null;
  reason: string;
  detail: string;
  count: number | null;
  receivedAt: number;
}

/**
 * An aggregate accepted for threshold decryption. 'waiting': asked for (again after a timeout,
 * a republication or a restart) until decrypted; 'refused': the custodians refused it, final.
 */
export interface ReservationRow {
  groupId: string;
  slot: number;
  keyId: string;
  contributors: string[];
  /** The aggregate message as received (JSON text), to ask the custodians again. */
  aggregate: string;
  aggregateHash: string;
  state: 'waiting' | 'refused';
  attempts: number;
  reason: string | null;
  detail: string | null;
  receivedAt: number;
  updatedAt: number;
}

/**
 * kind `feeder-deviation`: the decrypted total and the feeder reading differ by more than the
 * tolerance. `out-of-range-total`: the plaintext was no total honest readings can give (total and
 * deviation null: it is not kept; feeder the reading if it was in).
 */
export type MeterStatusRow = MeterStatus & { receivedAt: number };

export interface AlertRow {
  groupId: string;
  slot: number;
  kind: 'feeder-deviation' | 'out-of-range-total';
  total: bigint | null;
  feeder: bigint | null;
  deviation: number | null;
  /** Members not counted in the total (or in the refused part). */
  missing: number;
  /** What was wrong, in words, for kinds that have no numbers to show. */
  detail: string | null;
  createdAt: number;
}

const RESERVATIONS = `
CREATE TABLE IF NOT EXISTS reservations (
  group_id TEXT NOT NULL, slot INTEGER NOT NULL, key_id TEXT NOT NULL, contributors TEXT NOT NULL, aggregate TEXT NOT NULL,
  aggregate_hash TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL, reason TEXT, detail TEXT,
  received_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, slot, key_id)
);
CREATE INDEX IF NOT EXISTS reservations_by_slot ON reservations (slot);`;

/** A store written before reservations had a key id: rebuilt with the key id its aggregate names. */
function addReservationKeyIds(db: MigrationContext): void {
  const columns = db.prepare(`SELECT name FROM pragma_table_info('reservations')`).pluck().all() as string[];
  if (columns.length === 0 || columns.includes('key_id')) return;
  db.exec('ALTER TABLE reservations RENAME TO reservations_without_key; DROP INDEX IF EXISTS reservations_by_slot;');
  db.exec(RESERVATIONS);
  db.exec(`INSERT INTO reservations SELECT group_id, slot, json_extract(aggregate, '$.keyId'), contributors, aggregate, aggregate_hash,
    state, attempts, reason, detail, received_at, updated_at FROM reservations_without_key; DROP TABLE reservations_without_key;`);
}

/** Every table of the provider's file, this module's and its parts' (held comparisons, series parts). */
const SCHEMA = `
${META_TABLE}
CREATE TABLE IF NOT EXISTS series (
  group_id TEXT NOT NULL, slot INTEGER NOT NULL, contributors TEXT NOT NULL, count INTEGER NOT NULL,
  total TEXT NOT NULL, readings TEXT NOT NULL, aggregate_hash TEXT NOT NULL, decrypted_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, slot)
);
CREATE INDEX IF NOT EXISTS series_by_slot ON series (slot);
CREATE TABLE IF NOT EXISTS refusals (
  id INTEGER PRIMARY KEY, group_id TEXT, slot INTEGER, reason TEXT NOT NULL, detail TEXT NOT NULL,
  count INTEGER, aggregate_hash TEXT, received_at INTEGER NOT NULL,
  UNIQUE (group_id, slot, reason, aggregate_hash)
);
${RESERVATIONS}
CREATE TABLE IF NOT EXISTS feeder (
  group_id TEXT NOT NULL, slot INTEGER NOT NULL, total TEXT NOT NULL, received_at INTEGER NOT NULL,
  PRIMARY KEY (group_id, slot)
);
CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY, group_id TEXT NOT NULL, slot INTEGER NOT NULL, kind TEXT NOT NULL,
  total TEXT NOT NULL, feeder TEXT NOT NULL, deviation REAL NOT NULL, missing INTEGER NOT NULL, created_at INTEGER NOT NULL,
  UNIQUE (group_id, slot, kind)
);
${HELD_COMPARISONS_TABLE}
${SERIES_PARTS_TABLE}
`;

/**
 * Version 2: alerts of other kinds than a feeder deviation (an out-of-range total has no total to
 * show): total, feeder and deviation may be null, and a detail says what was wrong. Rows keep
 * their ids, so the API's newest-first order holds across the migration.
 */
function alertsOfEveryKind(db: MigrationContext): void {
  db.exec(`
    ALTER TABLE alerts RENAME TO alerts_v1;
    CREATE TABLE alerts (
      id INTEGER PRIMARY KEY, group_id TEXT NOT NULL, slot INTEGER NOT NULL, kind TEXT NOT NULL,
      total TEXT, feeder TEXT, deviation REAL, missing INTEGER NOT NULL, detail TEXT, created_at INTEGER NOT NULL,
      UNIQUE (group_id, slot, kind)
    );
    INSERT INTO alerts (id, group_id, slot, kind, total, feeder, deviation, missing, detail, created_at)
      SELECT id, group_id, slot, kind, total, feeder, deviation, missing, NULL, created_at FROM alerts_v1;
    DROP TABLE alerts_v1;`);
}

/**
 * Version 1: the layout above. A file from before versions were recorded has it, lacks some
 * tables, or has reservations without a key id (addReservationKeyIds).
 */
/** Version 3: each meter's latest health status (firmware/protocol/meter-status.ts), as checked. */
function meterStatuses(db: MigrationContext): void {
  db.exec(`CREATE TABLE IF NOT EXISTS meter_status (
    meter_id TEXT PRIMARY KEY, status TEXT NOT NULL, at INTEGER NOT NULL, received_at INTEGER NOT NULL
  )`);
}

/** The file's layout steps, by user_version (host/store/sqlite.ts). */
export const PROVIDER_MIGRATIONS = [
  (db: MigrationContext) => {
    addReservationKeyIds(db);
    db.exec(SCHEMA);
  },
  alertsOfEveryKind,
  meterStatuses,
  // Version 4: coarse rows of downsampled slots (host/provider/downsample.ts).
  (db: MigrationContext) => db.exec(SERIES_COARSE_TABLE),
];

interface RawSeries {
  group_id: string;
  slot: number;
  contributors: string;
  total: string;
  readings: string;
  aggregate_hash: string;
  decrypted_at: number;
}

interface RawReservation {
  group_id: string;
  slot: number;
  key_id: string;
  contributors: string;
  aggregate: string;
  aggregate_hash: string;
  state: 'waiting' | 'refused';
  attempts: number;
  reason: string | null;
  detail: string | null;
  received_at: number;
  updated_at: number;
}

const toReservation = (r: RawReservation): ReservationRow => ({
  groupId: r.group_id,
  slot: r.slot,
  keyId: r.key_id,
  contributors: JSON.parse(r.contributors),
  aggregate: r.aggregate,
  aggregateHash: r.aggregate_hash,
  state: r.state,
  attempts: r.attempts,
  reason: r.reason,
  detail: r.detail,
  receivedAt: r.received_at,
  updatedAt: r.updated_at,
});

const toSeries = (r: RawSeries): SeriesRow => ({
  groupId: r.group_id,
  slot: r.slot,
  contributors: JSON.parse(r.contributors),
  total: BigInt(r.total),
  readings: (JSON.parse(r.readings) as string[]).map(BigInt),
  aggregateHash: r.aggregate_hash,
  decryptedAt: r.decrypted_at,
});

export class ProviderStore {
  /** The file itself, for the store's own queries and for inspection; its tables' parts below. */
  readonly db: StoreFile;
  readonly parts: SeriesParts;
  readonly held: HeldComparisons;

  /**
   * keyIds: the keys the provider decrypts with now. A store belongs to one deployment: it records
   * every key it has served (meta 'keyId.<id>'), and a ring sharing none of them is another
   * deployment's. A rotation shares the old key while both are in the ring.
   */
  constructor(path: string, keyIds: string[], durability: 'process' | 'power' = 'process') {
    this.db = StoreFile.open(
      path,
      {
        migrations: PROVIDER_MIGRATIONS,
        checkIdentity: (file) => {
          bindRole(file, 'provider');
          bindKeyIds(file, keyIds, 'provider store');
        },
      },
      durability,
    );
    const statements: Statements = { prepare: (sql) => this.db.prepare(sql) };
    this.parts = new SeriesParts(statements);
    this.held = new HeldComparisons(statements);
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn);
  }

  series(groupId: string, slot: number): SeriesRow | undefined {
    const r = this.db.prepare('SELECT * FROM series WHERE group_id = ? AND slot = ?').get(groupId, slot) as RawSeries | undefined;
    return r && toSeries(r);
  }

  /**
   * Contributor sets of everything decrypted for this slot, in every group, and of everything
   * waiting for the custodians: it may be decrypted yet, so the policy counts it as decrypted.
   */
  decryptedSetsForSlot(slot: number): ContributorSet[] {
    const rows = this.db
      .prepare(
        `SELECT group_id, contributors FROM series WHERE slot = ? UNION ALL SELECT group_id, contributors FROM reservations WHERE slot = ? AND state = 'waiting'`,
      )
      .all(slot, slot) as { group_id: string; contributors: string }[];
    return rows.map((r) => ({ group: r.group_id, contributors: JSON.parse(r.contributors) }));
  }

  reservation(groupId: string, slot: number, keyId: string): ReservationRow | undefined {
    const r = this.db.prepare('SELECT * FROM reservations WHERE group_id = ? AND slot = ? AND key_id = ?').get(groupId, slot, keyId) as
      RawReservation | undefined;
    return r && toReservation(r);
  }

  /** Every reservation of a (group, slot), one per key id. */
  reservationsOf(groupId: string, slot: number): ReservationRow[] {
    return (
      this.db.prepare('SELECT * FROM reservations WHERE group_id = ? AND slot = ? ORDER BY key_id').all(groupId, slot) as RawReservation[]
    ).map(toReservation);
  }

  insertReservation(
    row: Pick<ReservationRow, 'groupId' | 'slot' | 'keyId' | 'contributors' | 'aggregate' | 'aggregateHash' | 'receivedAt'>,
  ): void {
    this.db
      .prepare(
        `INSERT INTO reservations (group_id, slot, key_id, contributors, aggregate, aggregate_hash, state, attempts, received_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'waiting', 0, ?, ?)`,
      )
      .run(
        row.groupId,
        row.slot,
        row.keyId,
        JSON.stringify(row.contributors),
        row.aggregate,
        row.aggregateHash,
        row.receivedAt,
        row.receivedAt,
      );
  }

  /** Records a failed attempt: still waiting (asked again later) or refused for good. */
  updateReservation(
    row: Pick<ReservationRow, 'groupId' | 'slot' | 'keyId'>,
    state: 'waiting' | 'refused',
    reason: string,
    detail: string,
    now: number,
  ): void {
    this.db
      .prepare(
        'UPDATE reservations SET state = ?, attempts = attempts + 1, reason = ?, detail = ?, updated_at = ? WHERE group_id = ? AND slot = ? AND key_id = ?',
      )
      .run(state, reason, detail, now, row.groupId, row.slot, row.keyId);
  }

  deleteReservation(row: Pick<ReservationRow, 'groupId' | 'slot' | 'keyId'>): void {
    this.db.prepare('DELETE FROM reservations WHERE group_id = ? AND slot = ? AND key_id = ?').run(row.groupId, row.slot, row.keyId);
  }

  waitingReservations(): ReservationRow[] {
    return (this.db.prepare(`SELECT * FROM reservations WHERE state = 'waiting' ORDER BY slot, group_id`).all() as RawReservation[]).map(
      toReservation,
    );
  }

  /** The latest reservations, waiting or refused, for the API (no aggregate bytes). */
  reservations(limit: number): Omit<ReservationRow, 'aggregate' | 'aggregateHash' | 'contributors'>[] {
    const rows = this.db.prepare('SELECT * FROM reservations ORDER BY updated_at DESC LIMIT ?').all(limit) as RawReservation[];
    return rows.map(toReservation).map(({ aggregate: _a, aggregateHash: _h, contributors: _c, ...rest }) => rest);
  }

  countWaiting(): number {
    return this.db.prepare(`SELECT count(*) FROM reservations WHERE state = 'waiting'`).pluck().get() as number;
  }

  /** Adds a further part's readings (host/provider/series-parts.ts) to the (group, slot)'s series row; returns the new row. */
  addToSeries(row: SeriesRow, contributors: readonly string[], readings: readonly bigint[]): SeriesRow {
    const merged: SeriesRow = {
      ...row,
      contributors: [...row.contributors, ...contributors].sort(),
      readings: row.readings.map((r, i) => r + readings[i]),
      total: row.total + readings.reduce((a, b) => a + b, 0n),
    };
    this.db
      .prepare('UPDATE series SET contributors = ?, count = ?, total = ?, readings = ? WHERE group_id = ? AND slot = ?')
      .run(
        JSON.stringify(merged.contributors),
        merged.contributors.length,
        merged.total.toString(),
        JSON.stringify(merged.readings.map(String)),
        row.groupId,
        row.slot,
      );
    return merged;
  }

  insertSeries(row: SeriesRow): void {
    this.db
      .prepare(
        'INSERT INTO series (group_id, slot, contributors, count, total, readings, aggregate_hash, decrypted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(
        row.groupId,
        row.slot,
        JSON.stringify(row.contributors),
        row.contributors.length,
        row.total.toString(),
        JSON.stringify(row.readings.map(String)),
        row.aggregateHash,
        row.decryptedAt,
      );
  }

  seriesRange(groupId: string, fromSlot: number, toSlot: number): SeriesRow[] {
    const rows = this.db
      .prepare('SELECT * FROM series WHERE group_id = ? AND slot >= ? AND slot < ? ORDER BY slot')
      .all(groupId, fromSlot, toSlot) as RawSeries[];
    return rows.map(toSeries);
  }

  countSeries(): number {
    return this.db.prepare('SELECT count(*) FROM series').pluck().get() as number;
  }

  /** Slots decrypted, by group: what the metrics count. */
  countSeriesByGroup(): Map<string, number> {
    const rows = this.db.prepare('SELECT group_id, count(*) AS n FROM series GROUP BY group_id').all() as { group_id: string; n: number }[];
    return new Map(rows.map((r) => [r.group_id, r.n]));
  }

  /** Alerts raised, by group and kind. */
  countAlerts(): { groupId: string; kind: string; n: number }[] {
    const rows = this.db.prepare('SELECT group_id, kind, count(*) AS n FROM alerts GROUP BY group_id, kind').all() as {
      group_id: string;
      kind: string;
      n: number;
    }[];
    return rows.map((r) => ({ groupId: r.group_id, kind: r.kind, n: r.n }));
  }

  lastSlot(): number | null {
    return (this.db.prepare('SELECT max(slot) FROM series').pluck().get() as number | null) ?? null;
  }

  insertRefusal(r: RefusalRow, aggregateHash: string | null): boolean {
    return (
      this.db
        .prepare(
          'INSERT OR IGNORE INTO refusals (group_id, slot, reason, detail, count, aggregate_hash, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        )
        .run(r.groupId, r.slot, r.reason, r.detail, r.count, aggregateHash, r.receivedAt).changes === 1
    );
  }

  refusals(limit: number): RefusalRow[] {
    const rows = this.db.prepare('SELECT * FROM refusals ORDER BY id DESC LIMIT ?').all(limit) as {
      group_id: string | null;
      slot: number | null;
      reason: string;
      detail: string;
      count: number | null;
      received_at: number;
    }[];
    return rows.map((r) => ({
      groupId: r.group_id,
      slot: r.slot,
      reason: r.reason,
      detail: r.detail,
      count: r.count,
      receivedAt: r.received_at,
    }));
  }

  /**
   * Keeps a meter's status unless the one held is later by the meter's clock (false: stale). The
   * same status again (the broker hands the retained one over at every reconnect) replaces itself.
   */
  saveMeterStatus(status: MeterStatus, now: number): boolean {
    return (
      this.db
        .prepare(
          `INSERT INTO meter_status (meter_id, status, at, received_at) VALUES (?, ?, ?, ?)
           ON CONFLICT (meter_id) DO UPDATE SET status = excluded.status, at = excluded.at, received_at = excluded.received_at
           WHERE excluded.at >= meter_status.at`,
        )
        .run(status.meterId, JSON.stringify(status), status.at, now).changes === 1
    );
  }

  /** The latest status of every meter that sent one, by meter id. */
  meterStatuses(): Map<string, MeterStatusRow> {
    const rows = this.db.prepare('SELECT status, received_at FROM meter_status').all() as { status: string; received_at: number }[];
    return new Map(
      rows.map((r) => {
        const status = JSON.parse(r.status) as MeterStatus;
        return [status.meterId, { ...status, receivedAt: r.received_at }];
      }),
    );
  }

  saveFeeder(groupId: string, slot: number, total: bigint, now: number): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO feeder (group_id, slot, total, received_at) VALUES (?, ?, ?, ?)')
        .run(groupId, slot, total.toString(), now).changes === 1
    );
  }

  feeder(groupId: string, slot: number): bigint | undefined {
    const t = this.db.prepare('SELECT total FROM feeder WHERE group_id = ? AND slot = ?').pluck().get(groupId, slot) as string | undefined;
    return t === undefined ? undefined : BigInt(t);
  }

  feederRange(groupId: string, fromSlot: number, toSlot: number): Map<number, bigint> {
    const rows = this.db
      .prepare('SELECT slot, total FROM feeder WHERE group_id = ? AND slot >= ? AND slot < ?')
      .all(groupId, fromSlot, toSlot) as { slot: number; total: string }[];
    return new Map(rows.map((r) => [r.slot, BigInt(r.total)]));
  }

  insertAlert(a: AlertRow): boolean {
    return (
      this.db
        .prepare(
          'INSERT OR IGNORE INTO alerts (group_id, slot, kind, total, feeder, deviation, missing, detail, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(
          a.groupId,
          a.slot,
          a.kind,
          a.total?.toString() ?? null,
          a.feeder?.toString() ?? null,
          a.deviation,
          a.missing,
          a.detail,
          a.createdAt,
        ).changes === 1
    );
  }

  alertSlots(groupId: string, fromSlot: number, toSlot: number): Set<number> {
    return new Set(
      this.db
        .prepare('SELECT slot FROM alerts WHERE group_id = ? AND slot >= ? AND slot < ?')
        .pluck()
        .all(groupId, fromSlot, toSlot) as number[],
    );
  }

  alerts(limit: number): AlertRow[] {
    const rows = this.db.prepare('SELECT * FROM alerts ORDER BY id DESC LIMIT ?').all(limit) as {
      group_id: string;
      slot: number;
      kind: AlertRow['kind'];
      total: string | null;
      feeder: string | null;
      deviation: number | null;
      missing: number;
      detail: string | null;
      created_at: number;
    }[];
    return rows.map((r) => ({
      groupId: r.group_id,
      slot: r.slot,
      kind: r.kind,
      total: r.total === null ? null : BigInt(r.total),
      feeder: r.feeder === null ? null : BigInt(r.feeder),
      deviation: r.deviation,
      missing: r.missing,
      detail: r.detail,
      createdAt: r.created_at,
    }));
  }

  close(): void {
    this.db.close();
  }
}
