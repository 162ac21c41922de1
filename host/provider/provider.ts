/**
 * The utility's decrypting role. Each aggregate is checked against the policy before anything is
 * decrypted; an accepted one is decrypted, unpacked, stored, and compared with the group's
 * feeder reading for that slot (whichever of the two arrives second triggers the comparison).
 * Messages are handled synchronously inside MQTT.js's message event, which it emits before it
 * sends the PUBACK: a message is acknowledged to the broker only after its effect is committed.
 *
 * Decryption is either single-key (CRT, inside that same transaction) or threshold: then the
 * transaction that checks the policy reserves the (group, slot) with the aggregate, and the
 * custodians are asked after the commit. Their answer is stored, and the reservation removed, in
 * a second transaction. A reservation still waiting is asked for again when the request times
 * out (every retryMs), when the aggregator republishes the same aggregate, and when the provider
 * starts; custodians answer a repeated request with the partial they already gave, so a retry or
 * a kill -9 at any point neither loses the slot nor counts it twice. A refusal by the custodians
 * is final and stored with their reasons.
 */
import type { MqttClient } from 'mqtt';
import { MeterveilError, type Reason } from '../../firmware/errors.ts';
import type { SlotPacking } from '../../firmware/paillier/packing.ts';
import type { GroupConfig, MeterveilConfig } from '../config/schema.ts';
import { ThresholdDecryptionFailure, type ThresholdDecryption } from '../decryption/request-client.ts';
import type { RejectedPartial } from '../threshold/combine.ts';
import { aggregateHash, decodeAggregate, type Aggregate } from '../protocol/aggregate.ts';
import { decodeFeederReading } from '../protocol/feeder.ts';
import { decodeAggregatorStatus, type AggregatorStatus } from '../protocol/aggregator-status.ts';
import { decodeMeterStatus } from '../protocol/meter-status.ts';
import { nodeHmacSha256 } from '../protocol/mac.ts';
import { METER_STATUS_TOPIC_FILTER } from '../../firmware/protocol/meter-status.ts';
import {
  AGGREGATE_TOPIC_FILTER,
  FEEDER_TOPIC_FILTER,
  feederOfTopic,
  groupOfAggregateTopic,
  groupOfStatusTopic,
  meterOfStatusTopic,
  STATUS_TOPIC_FILTER,
} from '../protocol/topics.ts';
import { ReasonCounter } from '../store/reason-counter.ts';
import { silentLog, type RoleLog } from '../log/logger.ts';
import { compareWithFeeder } from './compare.ts';
import { partsDueMs, type HeldComparisons } from './held-comparisons.ts';
import { checkMembership, type Refusal } from '../policy/decryption-policy.ts';
import { beyondHorizon } from '../policy/horizon.ts';
import { DisclosureRule, type ContributorSet } from '../policy/disclosure.ts';
import type { SeriesParts } from './series-parts.ts';
import type { ProviderStore, ReservationRow, SeriesRow } from './store.ts';

export interface Decrypted {
  groupId: string;
  slot: number;
  count: number;
  members: number;
  total: bigint;
  feeder?: bigint;
  deviation?: number;
  alert?: boolean;
  /** The feeder comparison waits for the slot's other parts (a key rotation; host/provider/held-comparisons.ts). */
  comparisonHeld?: boolean;
}

/** How the custodians are asked for an aggregate's plaintext: Paillier partial decryptions, or their parts of the masks. */
export interface CustodiansClient {
  decrypt(aggregate: Aggregate): Promise<ThresholdDecryption>;
}

export type Decryption =
  /**
   * The provider's own keys, by key id (Paillier: config keys.privateKeys, each aggregate
   * decrypted with the key its key id names; masked: its mask keys of every meter, host/scheme/unmask.ts).
   * decrypt throws a MeterveilError for a ciphertext it refuses.
   */
  | { mode: 'single'; keyIds: string[]; decrypt: (aggregate: Aggregate) => bigint }
  /** The threshold key ring (provider.decryption.publicKeys) or the masked key ids: the client asks for the key an aggregate's key id names. */
  | { mode: 'threshold'; keyIds: string[]; client: CustodiansClient; retryMs: number };

export interface ProviderOptions {
  config: MeterveilConfig;
  decryption: Decryption;
  packing: SlotPacking;
  store: ProviderStore;
  client: MqttClient;
  now?: () => number;
  log?: RoleLog;
  onDecrypted?: (d: Decrypted) => void;
  /** After a (group, slot) changed: its total decrypted, its feeder reading in, or an alert raised (the dashboard's live stream). */
  onSlotChanged?: (groupId: string, slot: number) => void;
  /** Each meter's status key (host/config/secrets.ts meterStatusKey); a meter without one has its statuses refused. */
  statusKeys?: ReadonlyMap<string, Uint8Array>;
  onRefused?: (groupId: string | null, slot: number | null, refusal: Refusal) => void;
  /** Each decryption's time: one CRT decryption, or one round of asking the custodians, however it ended. */
  onDecryption?: (mode: Decryption['mode'], seconds: number, outcome: DecryptionOutcome) => void;
}

/** How one decryption ended: a plaintext, a refusal, or (threshold mode) too few answers in time. */
export type DecryptionOutcome = 'decrypted' | 'refused' | 'timed-out';

export class Provider {
  /** Refusals and dropped messages by reason, including those that could not be stored (no group or slot). */
  readonly counts = new ReasonCounter<Reason | `feeder-${Reason}` | `status-${Reason}` | `meter-status-${Reason}`>();
  /** The latest status of each group's aggregator (retained on its topic, so it is back after a restart), with when it came. */
  readonly aggregatorStatus = new Map<string, AggregatorStatus & { receivedAt: number }>();
  private readonly groups: Map<string, GroupConfig>;
  /** What may be released: every group's feeder reading and the slot's decrypted totals leave no cell below its k. */
  private readonly disclosure: DisclosureRule;
  private readonly groupsOfFeeder = new Map<string, GroupConfig[]>();
  private readonly now: () => number;
  private readonly log: RoleLog;
  private readonly keyIds: Set<string>;
  private readonly parts: SeriesParts;
  private readonly held: HeldComparisons;
  /** Threshold mode: (group, slot, key id) of the requests out to the custodians now. */
  private readonly inFlight = new Set<string>();
  private started = false;
  private stopped = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private compareTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ProviderOptions) {
    this.groups = new Map(o.config.groups.map((g) => [g.id, g]));
    this.disclosure = new DisclosureRule(o.config.groups);
    for (const g of o.config.groups) this.groupsOfFeeder.set(g.feeder, [...(this.groupsOfFeeder.get(g.feeder) ?? []), g]);
    this.now = o.now ?? Date.now;
    this.log = o.log ?? silentLog;
    this.keyIds = new Set(o.decryption.keyIds);
    this.parts = o.store.parts;
    this.held = o.store.held;
    // Attached before the connection completes: a persistent session delivers queued messages at once.
    o.client.on('message', (topic, payload) => this.receive(topic, payload));
  }

  /** In threshold mode the decryption client must already be subscribed to the custodians' answers. */
  async start(): Promise<void> {
    await this.o.client.subscribeAsync([AGGREGATE_TOPIC_FILTER, FEEDER_TOPIC_FILTER], { qos: 1 });
    // Published at QoS 0 every 2 s: a lost one is replaced by the next.
    await this.o.client.subscribeAsync([STATUS_TOPIC_FILTER, METER_STATUS_TOPIC_FILTER], { qos: 0 });
    this.compareHeld();
    this.compareTimer = setInterval(() => this.compareHeld(), HELD_COMPARISON_CHECK_MS);
    const d = this.o.decryption;
    if (d.mode !== 'threshold') return;
    this.started = true;
    this.retryWaiting();
    this.retryTimer = setInterval(() => this.retryWaiting(), d.retryMs);
  }

  /** Stops asking the custodians; what is waiting stays reserved in the store for the next start. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.retryTimer);
    clearInterval(this.compareTimer);
  }

  /** Compares the held (group, slot)s whose parts are due (every second, and at start). */
  compareHeld(): void {
    if (this.stopped) return;
    try {
      this.o.store.transaction(() => {
        for (const { groupId, slot } of this.held.due(this.now())) {
          const group = this.groups.get(groupId);
          if (group) this.considerComparison(group, slot);
          else this.held.release(groupId, slot);
        }
      });
      this.runAfterCommit();
    } catch (e) {
      this.pendingEffects = [];
      this.counts.count('internal-error');
      this.log.error({ reason: 'internal-error' }, `provider: held comparisons not processed: ${(e as Error).message}`);
    }
  }

  /** Reservations waiting for the custodians, asked for again (those not out already). */
  retryWaiting(): void {
    if (!this.started || this.stopped) return;
    try {
      for (const row of this.o.store.waitingReservations()) this.requestDecryption(row);
    } catch (e) {
      this.counts.count('internal-error');
      this.log.error({ reason: 'internal-error' }, `provider: could not read the waiting reservations: ${(e as Error).message}`);
    }
  }

  receive(topic: string, payload: Uint8Array): void {
    try {
      if (groupOfAggregateTopic(topic) !== undefined) this.receiveAggregate(groupOfAggregateTopic(topic)!, payload);
      else if (feederOfTopic(topic) !== undefined) this.receiveFeeder(feederOfTopic(topic)!, payload);
      else if (groupOfStatusTopic(topic) !== undefined) this.receiveStatus(groupOfStatusTopic(topic)!, payload);
      else if (meterOfStatusTopic(topic) !== undefined) this.receiveMeterStatus(meterOfStatusTopic(topic)!, payload);
    } catch (e) {
      // A failed commit: the transaction rolled back; the broker redelivers to the persistent session.
      this.pendingEffects = [];
      this.counts.count('internal-error');
      this.log.error({ reason: 'internal-error', topic }, `provider: message on ${topic} not processed: ${(e as Error).message}`);
      throw e;
    }
  }

  private refuse(groupId: string | null, slot: number | null, refusal: Refusal, aggregate?: Aggregate, hash?: string): void {
    this.recordRefusal(groupId, slot, refusal, aggregate, hash);
  }

  /** Counts a refusal and records it; true if it was not on record before. */
  private recordRefusal(groupId: string | null, slot: number | null, refusal: Refusal, aggregate?: Aggregate, hash?: string): boolean {
    this.counts.count(refusal.reason);
    const stored = this.o.store.insertRefusal(
      { groupId, slot, reason: refusal.reason, detail: refusal.detail, count: aggregate?.count ?? null, receivedAt: this.now() },
      hash ?? null,
    );
    if (stored) {
      this.log.warn(
        { group: groupId ?? undefined, slot: slot ?? undefined, reason: refusal.reason },
        `provider: refused ${groupId ?? '?'}/${slot ?? '?'}: ${refusal.reason} (${refusal.detail})`,
      );
      this.o.onRefused?.(groupId, slot, refusal);
    }
    return stored;
  }

  private receiveAggregate(topicGroup: string, payload: Uint8Array): void {
    const group = this.groups.get(topicGroup);
    if (!group) return this.refuse(topicGroup, null, { reason: 'unknown-group', detail: `no group ${topicGroup} in the config` });
    let aggregate: Aggregate;
    try {
      aggregate = decodeAggregate(payload);
    } catch (e) {
      const reason = e instanceof MeterveilError ? e.reason : 'malformed';
      return this.refuse(group.id, null, { reason, detail: (e as Error).message });
    }
    const hash = aggregateHash(aggregate);
    const refuse = (reason: Reason, detail: string) => this.refuse(group.id, aggregate.slot, { reason, detail }, aggregate, hash);
    if (aggregate.groupId !== group.id) return refuse('topic-mismatch', `aggregate of ${aggregate.groupId} on ${group.id}'s topic`);
    // Before any record is looked for: collection may have forgotten this slot's.
    const tooOld = beyondHorizon(aggregate.slot, this.o.config, this.now());
    if (tooOld) return refuse(tooOld.reason, tooOld.detail);
    if (!this.keyIds.has(aggregate.keyId)) return refuse('wrong-key-id', `key ${aggregate.keyId} is not in the provider's key ring`);
    if (aggregate.packed !== this.o.packing.readings) return refuse('packing-mismatch', `packed ${aggregate.packed}`);
    const membership = checkMembership(aggregate, group);
    if (membership) return refuse(membership.reason, membership.detail);

    const { store } = this.o;
    const d = this.o.decryption;
    store.transaction(() => {
      const parts = this.parts.parts(group.id, aggregate.slot);
      const earlier = store.series(group.id, aggregate.slot);
      // A series row without parts predates key rotation: it is the slot's one aggregate.
      if (earlier && parts.length === 0) {
        if (earlier.aggregateHash === hash) return this.counts.count('republished');
        return refuse('already-decrypted', `slot ${aggregate.slot} of ${group.id} was decrypted before`);
      }
      const same = parts.find((p) => p.keyId === aggregate.keyId);
      if (same) {
        // The aggregator republishes after a restart; the same bytes are not a second decryption.
        if (same.aggregateHash === hash) return this.counts.count('republished');
        return refuse('already-decrypted', `slot ${aggregate.slot} of ${group.id} under key ${aggregate.keyId} was decrypted before`);
      }
      const reservations = store.reservationsOf(group.id, aggregate.slot);
      const reserved = reservations.find((r) => r.keyId === aggregate.keyId);
      if (reserved) {
        if (reserved.aggregateHash !== hash)
          return refuse(
            'already-decrypted',
            `slot ${aggregate.slot} of ${group.id} under key ${aggregate.keyId} is reserved for another aggregate`,
          );
        this.counts.count('republished');
        if (reserved.state === 'waiting') this.afterCommit(() => this.requestDecryption(reserved));
        return;
      }
      // Other parts of this (group, slot), under other keys (a rotation): decrypted or on their way.
      const counted = new Set(
        [...parts.map((p) => p.contributors), ...reservations.filter((r) => r.state === 'waiting').map((r) => r.contributors)].flat(),
      );
      const twice = aggregate.contributors.filter((m) => counted.has(m));
      if (twice.length > 0)
        return refuse(
          'overlapping-parts',
          `${twice.length} contributor(s) already counted in slot ${aggregate.slot} of ${group.id} under another key`,
        );
      const disclosure = this.disclosure.refusal([
        ...this.knownSetsForSlot(aggregate.slot),
        { group: group.id, contributors: aggregate.contributors },
      ]);
      if (disclosure) return refuse(disclosure.reason, disclosure.detail);
      if (d.mode === 'threshold') {
        store.insertReservation({
          groupId: group.id,
          slot: aggregate.slot,
          keyId: aggregate.keyId,
          contributors: aggregate.contributors,
          aggregate: new TextDecoder().decode(payload),
          aggregateHash: hash,
          receivedAt: this.now(),
        });
        const row = store.reservation(group.id, aggregate.slot, aggregate.keyId)!;
        return this.afterCommit(() => this.requestDecryption(row));
      }
      let plaintext: bigint;
      const started = performance.now();
      try {
        plaintext = d.decrypt(aggregate);
      } catch (e) {
        if (e instanceof MeterveilError) {
          this.o.onDecryption?.('single', (performance.now() - started) / 1000, 'refused');
          return refuse(e.reason, e.message);
        }
        throw e;
      }
      this.o.onDecryption?.('single', (performance.now() - started) / 1000, 'decrypted');
      this.storeDecrypted(group, aggregate, hash, plaintext);
    });
    this.runAfterCommit();
  }

  /**
   * What the provider knows for a slot besides the feeder readings: every total decrypted or
   * waiting for the custodians, in every group, and each part of a total taken in parts (it
   * learns the parts one by one).
   */
  private knownSetsForSlot(slot: number): ContributorSet[] {
    return [...this.o.store.decryptedSetsForSlot(slot), ...this.parts.setsForSlot(slot)];
  }

  /**
   * Inside a transaction: unpacks and stores one part of a (group, slot) (the whole of it unless
   * a key rotation split it), adding it to the parts decrypted before; or refuses.
   */
  private storeDecrypted(group: GroupConfig, aggregate: Aggregate, hash: string, plaintext: bigint): Refusal | undefined {
    // Decrypted is decrypted, whatever the plaintext: the part is recorded first, so that the slot
    // is never decrypted a second time (another aggregate for it would difference against this one).
    this.parts.insert(
      { groupId: group.id, slot: aggregate.slot, keyId: aggregate.keyId, contributors: aggregate.contributors, aggregateHash: hash },
      this.now(),
    );
    const readings = this.readingsInRange(plaintext, aggregate.count);
    if (typeof readings === 'string') {
      const refusal: Refusal = { reason: 'out-of-range-total', detail: readings };
      if (this.recordRefusal(group.id, aggregate.slot, refusal, aggregate, hash)) {
        this.o.store.insertAlert({
          groupId: group.id,
          slot: aggregate.slot,
          kind: 'out-of-range-total',
          total: null,
          feeder: this.o.store.feeder(group.id, aggregate.slot) ?? null,
          deviation: null,
          missing: group.members.length - aggregate.contributors.length,
          detail: readings,
          createdAt: this.now(),
        });
        this.afterCommit(() =>
          this.log.warn(
            { group: group.id, slot: aggregate.slot, alert: 'out-of-range-total', reason: 'out-of-range-total' },
            `provider: ALERT ${group.id} slot ${aggregate.slot}: ${readings}`,
          ),
        );
      }
      return refusal;
    }
    const { store } = this.o;
    const earlier = store.series(group.id, aggregate.slot);
    let row: SeriesRow;
    if (earlier) {
      row = this.o.store.addToSeries(earlier, aggregate.contributors, readings);
    } else {
      row = {
        groupId: group.id,
        slot: aggregate.slot,
        contributors: aggregate.contributors,
        total: readings.reduce((a, b) => a + b, 0n),
        readings,
        aggregateHash: hash,
        decryptedAt: this.now(),
      };
      store.insertSeries(row);
    }
    const decrypted: Decrypted = {
      groupId: group.id,
      slot: aggregate.slot,
      count: row.contributors.length,
      members: group.members.length,
      total: row.total,
    };
    this.considerComparison(group, aggregate.slot, aggregate.keyId, decrypted);
    this.afterCommit(() => this.o.onDecrypted?.(decrypted));
    this.slotChanged(group.id, aggregate.slot);
    return undefined;
  }

  /**
   * The slot-wise sums of `count` readings, or why honest readings cannot have given this
   * plaintext: past the packing (a reading of n - x wraps the sum modulo n; a reading past its
   * slot carries out of the top), or a slot above count times the largest reading. The plaintext
   * itself is not repeated: it is a group's total.
   */
  private readingsInRange(plaintext: bigint, count: number): bigint[] | string {
    const { packing } = this.o;
    let readings: bigint[];
    try {
      readings = packing.unpack(plaintext);
    } catch (e) {
      if (e instanceof MeterveilError && e.reason === 'packed-overflow')
        return `the plaintext does not fit the packing (packed-overflow): a reading was negative or overflowed its slot`;
      throw e;
    }
    const bound = BigInt(count) * packing.maxReading;
    const over = readings.findIndex((r) => r > bound);
    if (over >= 0) return `packed slot ${over} exceeds ${count} readings of at most ${packing.maxReading}: a reading overflowed its slot`;
    return readings;
  }

  /** Threshold mode: asks the custodians for a reserved aggregate, unless a request for it is out. */
  private requestDecryption(row: ReservationRow): void {
    const d = this.o.decryption;
    const key = `${row.groupId}/${row.slot}/${row.keyId}`;
    if (d.mode !== 'threshold' || !this.started || this.stopped || this.inFlight.has(key)) return;
    const group = this.groups.get(row.groupId);
    if (!group) return;
    const aggregate = decodeAggregate(new TextEncoder().encode(row.aggregate));
    this.inFlight.add(key);
    const started = performance.now();
    const timed = (outcome: ThresholdDecryption | Error) => {
      const ended: DecryptionOutcome = !(outcome instanceof Error)
        ? 'decrypted'
        : outcome instanceof ThresholdDecryptionFailure && outcome.timedOut
          ? 'timed-out'
          : 'refused';
      this.o.onDecryption?.('threshold', (performance.now() - started) / 1000, ended);
      return outcome;
    };
    Promise.resolve()
      .then(() => d.client.decrypt(aggregate))
      .then(timed, (e: Error) => timed(e))
      .then((result) => this.settle(group, aggregate, row.aggregateHash, result))
      .catch((e: Error) => this.settle(group, aggregate, row.aggregateHash, e))
      .finally(() => this.inFlight.delete(key));
  }

  /**
   * Inside a transaction: names the custodians whose partials failed their proofs. The total, if
   * one is stored, was combined without them; the record and the alert say who forged.
   */
  private nameForgers(group: GroupConfig, aggregate: Aggregate, hash: string, rejected: readonly RejectedPartial[]): void {
    const forged = rejected.filter((r) => r.reason === 'invalid-partial-proof').sort((a, b) => a.index - b.index);
    if (forged.length === 0) return;
    const detail = `partial decryptions failing their proofs, not used: ${forged.map((f) => `custodian ${f.index}`).join(', ')}`;
    if (this.recordRefusal(group.id, aggregate.slot, { reason: 'forged-partial', detail }, aggregate, hash))
      this.afterCommit(() =>
        this.log.warn(
          { group: group.id, slot: aggregate.slot, alert: 'forged-partial', reason: 'forged-partial' },
          `provider: ALERT ${group.id} slot ${aggregate.slot}: ${detail}`,
        ),
      );
  }

  /** Stores the custodians' outcome for a reservation, if it is still waiting for exactly that aggregate. */
  private settle(group: GroupConfig, aggregate: Aggregate, hash: string, outcome: ThresholdDecryption | Error): void {
    if (this.stopped) return;
    const { store } = this.o;
    try {
      store.transaction(() => {
        const row = store.reservation(group.id, aggregate.slot, aggregate.keyId);
        if (!row || row.aggregateHash !== hash || row.state !== 'waiting') return;
        if (!(outcome instanceof Error)) {
          this.nameForgers(group, aggregate, hash, outcome.rejected);
          const refusal = this.storeDecrypted(group, aggregate, hash, outcome.plaintext);
          if (refusal) store.updateReservation(row, 'refused', refusal.reason, refusal.detail, this.now());
          else store.deleteReservation(row);
          return;
        }
        if (!(outcome instanceof MeterveilError)) throw outcome;
        if (outcome instanceof ThresholdDecryptionFailure) this.nameForgers(group, aggregate, hash, outcome.rejected);
        // Out of time with custodians silent: still waiting, asked again. Answered and refused: final.
        const retry = outcome instanceof ThresholdDecryptionFailure && outcome.timedOut;
        const reason = outcome instanceof ThresholdDecryptionFailure && !retry ? 'custodians-refused' : outcome.reason;
        const detail = outcome.message.slice(outcome.reason.length + 2);
        store.updateReservation(row, retry ? 'waiting' : 'refused', reason, detail, this.now());
        this.refuse(group.id, aggregate.slot, { reason, detail }, aggregate, hash);
      });
      this.runAfterCommit();
    } catch (e) {
      // The reservation is unchanged: it is asked for again at the next retry.
      this.pendingEffects = [];
      this.counts.count('internal-error');
      this.log.error(
        { group: group.id, slot: aggregate.slot, reason: 'internal-error' },
        `provider: outcome for ${group.id}/${aggregate.slot} not stored: ${(e as Error).message}`,
      );
    }
  }

  /** An aggregator's counts, kept to be shown; nothing is decided on them. */
  private receiveStatus(groupId: string, payload: Uint8Array): void {
    if (!this.groups.has(groupId)) return void this.counts.count('status-unknown-group');
    let status: AggregatorStatus;
    try {
      status = decodeAggregatorStatus(payload);
    } catch (e) {
      return void this.counts.count(e instanceof MeterveilError ? `status-${e.reason}` : 'status-malformed');
    }
    if (status.groupId !== groupId) return void this.counts.count('status-topic-mismatch');
    this.aggregatorStatus.set(groupId, { ...status, receivedAt: this.now() });
  }

  /** A meter's health, authenticated under its status key and kept to be shown; nothing is decided on it. */
  private receiveMeterStatus(meterId: string, payload: Uint8Array): void {
    const keys = this.o.statusKeys;
    if (!keys?.has(meterId)) return void this.counts.count('meter-status-unknown-meter');
    let status;
    try {
      status = decodeMeterStatus(payload, (id) => keys.get(id), nodeHmacSha256);
    } catch (e) {
      return void this.counts.count(e instanceof MeterveilError ? `meter-status-${e.reason}` : 'meter-status-malformed');
    }
    if (status.meterId !== meterId) return void this.counts.count('meter-status-topic-mismatch');
    if (!this.o.store.saveMeterStatus(status, this.now())) this.counts.count('meter-status-stale-status');
  }

  private receiveFeeder(feederId: string, payload: Uint8Array): void {
    const groups = this.groupsOfFeeder.get(feederId);
    if (!groups) return void this.counts.count('unknown-feeder');
    let reading;
    try {
      reading = decodeFeederReading(payload);
    } catch (e) {
      return void this.counts.count(e instanceof MeterveilError ? `feeder-${e.reason}` : 'feeder-malformed');
    }
    if (reading.feederId !== feederId) return void this.counts.count('feeder-topic-mismatch');
    const { store } = this.o;
    store.transaction(() => {
      for (const group of groups) {
        if (!store.saveFeeder(group.id, reading.slot, reading.total, this.now())) continue;
        this.considerComparison(group, reading.slot);
        this.slotChanged(group.id, reading.slot);
      }
    });
    this.runAfterCommit();
  }

  /**
   * Inside a transaction: compares the (group, slot)'s total with its feeder reading once both
   * are in and the total is complete, or holds the comparison (host/provider/held-comparisons.ts).
   * With one key in the ring no second part can come. settling: the key id of a part being
   * stored now, whose reservation is not yet removed.
   */
  private considerComparison(group: GroupConfig, slot: number, settling?: string, decrypted?: Decrypted): void {
    const { store } = this.o;
    const row = store.series(group.id, slot);
    if (!row || store.feeder(group.id, slot) === undefined) return;
    const complete = this.keyIds.size === 1 || row.contributors.length === group.members.length;
    const due = this.held.dueAt(group.id, slot) ?? partsDueMs(slot, this.o.config, this.now());
    const waiting = store.reservationsOf(group.id, slot).some((r) => r.state === 'waiting' && r.keyId !== settling);
    if (waiting || (!complete && this.now() < due)) {
      this.held.hold(group.id, slot, due);
      if (decrypted) decrypted.comparisonHeld = true;
      return;
    }
    this.held.release(group.id, slot);
    this.compare(group, slot, row.total, row.contributors.length, decrypted);
  }

  /** Inside a transaction: compares a decrypted total with the feeder reading. */
  private compare(group: GroupConfig, slot: number, total: bigint, count: number, decrypted?: Decrypted): void {
    const feeder = this.o.store.feeder(group.id, slot);
    if (feeder === undefined) return;
    const { deviation, alert } = compareWithFeeder(total, feeder, this.o.config.tolerance);
    if (decrypted) Object.assign(decrypted, { feeder, deviation, alert });
    if (!alert) return;
    const missing = group.members.length - count;
    const inserted = this.o.store.insertAlert({
      groupId: group.id,
      slot,
      kind: 'feeder-deviation',
      total,
      feeder,
      deviation,
      missing,
      detail: null,
      createdAt: this.now(),
    });
    if (inserted) {
      this.slotChanged(group.id, slot);
      this.afterCommit(() =>
        this.log.warn(
          { group: group.id, slot, alert: 'feeder-deviation', deviation, missing },
          `provider: ALERT ${group.id} slot ${slot}: meters ${total} vs feeder ${feeder} (deviation ${(deviation * 100).toFixed(2)}%, ${missing} meter(s) missing)`,
        ),
      );
    }
  }

  private pendingEffects: (() => void)[] = [];

  private slotChanged(groupId: string, slot: number): void {
    this.afterCommit(() => this.o.onSlotChanged?.(groupId, slot));
  }

  private afterCommit(effect: () => void): void {
    this.pendingEffects.push(effect);
  }

  private runAfterCommit(): void {
    const effects = this.pendingEffects;
    this.pendingEffects = [];
    for (const effect of effects) effect();
  }
}

/** How often held feeder comparisons are looked at; they are due whole slots after the slot. */
const HELD_COMPARISON_CHECK_MS = 1000;
