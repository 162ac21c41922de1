/**
 * One group's aggregator. Per report: authenticate (per-meter MAC), check key id, packing and slot
 * window, de-duplicate (meter, slot), and combine the ciphertext into the product of its
 * (slot, key id): modulo n^2 under Paillier, a sum modulo 2^W under the masked scheme
 * (host/scheme/aggregation.ts). Accepted reports are committed in small batches (one SQLite transaction per turn
 * of the event loop) and acknowledged only after the commit. A slot closes as soon as every member
 * has reported, and otherwise at its watermark (`latenessSeconds` after its end: long enough for an
 * outbox to resend a report that was lost or sent late). After an outage (the aggregator stopped,
 * or cut off from the broker) it first takes the backlog its persistent session kept at the broker
 * (host/aggregator/backlog.ts) and closes nothing overdue before that; overdue slots then get the
 * lateness again, counted from the backlog's arrival, for the meters' resends and replays, and close
 * in slot order. Reports of a slot not yet closed count up to the outage bound (`outageSeconds`
 * after its end: acceptanceHorizonMs); a report of a closed slot is refused `slot-closed`, one beyond
 * the bound `slot-too-old`, and no slot is closed twice (`closedThrough` in the store). A slot
 * short of 1..k-1 members at its watermark stays open for them up to the outage bound (a meter
 * that lost its network resends from its outbox), since closing it would suppress it. Each of its products then closes: with at
 * least k contributors its aggregate is stored, then published; below k it is suppressed, and so is
 * every product of a slot still missing 1..k-1 members (`members-missing`): the group's feeder
 * reading minus the total would be their sum, so the provider would refuse it anyway, and it need
 * not see the ciphertext at all. During a key rotation a slot may have reports under the old and the new key
 * (meters switch at the announced slot, but a meter that missed the announcement does not): they
 * become two aggregates, each checked against k on its own, never one product of mixed keys.
 * In threshold mode each report must carry one authenticator per custodian, the reports are kept
 * as they arrived, and a closed slot's reports are published for the custodians (never the
 * provider) before its aggregate, so that each custodian can check them and the product itself.
 */
import type { MqttClient } from 'mqtt';
import { bytesToBigInt } from '../../firmware/bytes.ts';
import { MeterveilError, type Reason } from '../../firmware/errors.ts';
import { KEY_ANNOUNCEMENT_TOPIC, verifyCosignedAnnouncement, type Cosigners } from '../../firmware/keys/announcement.ts';
import {
  AckStatus,
  ackTopic,
  decodeReport,
  encodeAck,
  MAX_REPORT_BYTES,
  peekReportMeterId,
  reportTopic,
  type AckStatusCode,
  type AuthenticatedReport,
  type Report,
} from '../../firmware/protocol/report.ts';
import type { GroupConfig, MeterveilConfig } from '../config/schema.ts';
import type { AggregationScheme } from '../scheme/aggregation.ts';
import { decodeAggregate, encodeAggregate } from '../protocol/aggregate.ts';
import { encodeEvidence } from '../protocol/evidence.ts';
import { nodeHmacSha256 } from '../protocol/mac.ts';
import { acceptanceHorizonMs, slotAt, slotStartMs, watermarkMs } from '../protocol/slots.ts';
import { aggregateTopic, aggregatorStatusTopic, backlogTopic, evidenceTopic, groupReportsFilter } from '../protocol/topics.ts';
import { ReasonCounter } from '../store/reason-counter.ts';
import { silentLog, type RoleLog } from '../log/logger.ts';
import { BacklogMarker } from './backlog.ts';
import type { AggregatorStore } from './store.ts';

/** A batch is committed at the end of the event-loop turn or when it reaches this size. */
const MAX_BATCH = 512;

export interface SlotClosed {
  groupId: string;
  slot: number;
  keyId: string;
  state: 'published' | 'suppressed';
  count: number;
  reason: Reason | null;
}

export interface AggregatorOptions {
  config: MeterveilConfig;
  group: GroupConfig;
  /**
   * The keys whose reports are accepted, each with its scheme (host/scheme/aggregation.ts): the
   * current one and, during a rotation, the next (config keys.publicKeys, or the masked key ids).
   */
  schemes: AggregationScheme[];
  macKeys: Map<string, Uint8Array>;
  /** Per member: the key this group acknowledges its reports with (another group's aggregator holds another). */
  ackKeys: Map<string, Uint8Array>;
  /**
   * Threshold deployments with custodian signing keys: reports under a key other than
   * `provisionedKeyId` count only once a key announcement for it arrived with the cosignatures of
   * `cosigners.threshold` custodians; until then they are counted as `key-not-endorsed` and not
   * acknowledged, so the meters keep them and send them again.
   */
  endorsement?: { provisionedKeyId: string; cosigners: Cosigners };
  store: AggregatorStore;
  client: MqttClient;
  now?: () => number;
  log?: RoleLog;
  onSlotClosed?: (event: SlotClosed) => void;
}

interface Pending {
  report: Report;
  key: AggregationScheme;
  ciphertext: bigint;
  /** Threshold mode: the message as it arrived, for the custodians. */
  message: Uint8Array | null;
}

/** What one batch's transaction did: the products it changed, and each report's answer. */
interface Committed {
  updated: Map<string, OpenProduct>;
  outcomes: [Report, AckStatusCode, Reason | undefined][];
}

/** Rolls a batch's transaction back: these products of it (by productKey) came out spoiled. */
class SpoiledProducts extends Error {
  constructor(readonly at: Set<string>) {
    super('a product of the batch is spoiled');
  }
}

/** The running product of one (slot, key id). */
interface OpenProduct {
  slot: number;
  keyId: string;
  product: bigint;
  count: number;
}

const productKey = (slot: number, keyId: string) => `${slot}/${keyId}`;

export class Aggregator {
  readonly rejections: ReasonCounter;
  /** Products closed without publishing, by reason (the store's slots table is the record). */
  readonly suppressions: ReasonCounter;
  accepted = 0;
  private readonly o: Required<Omit<AggregatorOptions, 'onSlotClosed' | 'endorsement'>> &
    Pick<AggregatorOptions, 'onSlotClosed' | 'endorsement'>;
  private readonly keys: Map<string, AggregationScheme>;
  /** Threshold mode: the custodians, each of which needs its authenticator in every report; 0 otherwise. */
  private readonly custodians: number;
  /** Open products by productKey(slot, keyId). */
  private readonly open = new Map<string, OpenProduct>();
  /** Meters already counted in each open slot, under any key: answers replays without a query (the store stays the authority). */
  private readonly openSeen = new Map<number, Set<string>>();
  /** Key ids the custodians cosigned (and the provisioned one); undefined: every configured key counts. */
  private readonly endorsed: Set<string> | undefined;
  /** Every slot up to this one is closed (store.closedThrough, kept here between writes). */
  private closedThrough: number;
  /** When the backlog of the current connection came in; undefined while it is awaited or the broker is away. */
  private liveSince: number | undefined;
  private readonly backlog: BacklogMarker;
  /** Its members' report topics up to the meter id: reportTopic(group, ''). */
  private readonly reportPrefix: string;
  private pending: Pending[] = [];
  /** Meters that sent a spoiled ciphertext (a multiple of n): each report of theirs is checked on arrival. */
  private readonly suspects = new Set<string>();
  private flushScheduled = false;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;

  constructor(options: AggregatorOptions) {
    this.o = { now: Date.now, log: silentLog, ...options };
    this.rejections = new ReasonCounter(options.store.rejections());
    this.suppressions = new ReasonCounter(options.store.suppressions());
    this.keys = new Map(options.schemes.map((k) => [k.keyId, k]));
    const d = options.config.provider.decryption;
    this.custodians = d.mode === 'threshold' ? d.custodians : 0;
    this.endorsed = options.endorsement && new Set([options.endorsement.provisionedKeyId]);
    this.closedThrough = options.store.closedThrough();
    this.reportPrefix = reportTopic(options.group.id, '');
    this.backlog = new BacklogMarker(options.client, backlogTopic(options.group.id));
    for (const s of options.store.openSlots()) {
      this.open.set(productKey(s.slot, s.keyId), { slot: s.slot, keyId: s.keyId, product: bytesToBigInt(s.product), count: s.count });
      const seen = this.openSeen.get(s.slot) ?? new Set<string>();
      for (const m of options.store.contributors(s.slot, s.keyId)) seen.add(m);
      this.openSeen.set(s.slot, seen);
    }
  }

  get groupId(): string {
    return this.o.group.id;
  }

  /** Its own backlog marker's topic: the process's router hands this aggregator what arrives there. */
  get backlogTopic(): string {
    return this.backlog.topic;
  }

  /**
   * One MQTT message for this group (host/aggregator/router.ts routes them, attached before the
   * connection completes: a persistent session delivers queued reports at once).
   */
  handle(topic: string, payload: Uint8Array): void {
    if (topic === KEY_ANNOUNCEMENT_TOPIC) this.receiveAnnouncement(payload);
    else if (topic === this.backlog.topic) this.receiveMarker(payload);
    else this.receive(topic, payload);
  }

  /** Subscribes to the members' report topics and starts closing slots; the client must be connected. */
  async start(): Promise<void> {
    const { client, group } = this.o;
    // Retained: the latest announcement arrives at every subscription, before reports under its key count.
    if (this.endorsed) await client.subscribeAsync(KEY_ANNOUNCEMENT_TOPIC, { qos: 1 });
    // One filter: the members' reports and the marker come through one queue, in order.
    await client.subscribeAsync(groupReportsFilter(group.id), { qos: 1 });
    for (const { slot, keyId, message } of this.o.store.unpublished()) this.publish(slot, keyId, message);
    // Every connection, the first and each after a broker restart or a network loss, has its backlog.
    client.on('connect', () => this.awaitBacklog());
    client.on('close', () => {
      this.liveSince = undefined;
      this.backlog.cancel();
    });
    this.awaitBacklog();
    const tick = Math.min(1000, this.o.config.slotSeconds * 250);
    this.timers.push(setInterval(() => this.closeDueSlots(), tick));
    this.timers.push(setInterval(() => this.saveStatus(), 2000));
    this.closeDueSlots();
  }

  stop(): void {
    this.stopped = true;
    this.backlog.cancel();
    for (const t of this.timers) clearInterval(t);
    this.flush();
    this.saveStatus();
  }

  private awaitBacklog(): void {
    if (this.stopped) return;
    this.liveSince = undefined;
    this.backlog.begin();
  }

  private receiveMarker(payload: Uint8Array): void {
    if (this.stopped || !this.backlog.receive(payload)) return;
    this.flush();
    this.liveSince = this.o.now();
    const overdue = [
      ...new Set([...this.open.values()].filter((p) => watermarkMs(p.slot, this.o.config) <= this.liveSince!).map((p) => p.slot)),
    ];
    this.o.log.info(
      { overdue: overdue.length },
      `aggregator ${this.groupId}: backlog in; ${overdue.length} overdue slot(s) close after ${this.o.config.latenessSeconds} s more for the meters' resends`,
    );
    this.closeDueSlots();
  }

  /**
   * Whether the clock has closed the slot: its watermark has passed while the aggregator was live,
   * and, after an outage, the lateness counted again from the backlog's arrival.
   */
  private closedByClock(slot: number, now: number): boolean {
    if (this.liveSince === undefined) return false;
    const { config } = this.o;
    return Math.max(watermarkMs(slot, config), this.liveSince + config.latenessSeconds * 1000) <= now;
  }

  /**
   * Whether an open slot closes now: at once when every member has reported, else when the clock
   * has closed it; but a slot short of 1..k-1 members, which would be suppressed (members-missing),
   * waits for them up to the outage bound: a meter that lost its network sends them from its outbox
   * when it is back.
   */
  private closesNow(slot: number, now: number): boolean {
    const { group, config } = this.o;
    const missing = group.members.length - (this.openSeen.get(slot)?.size ?? 0);
    if (missing <= 0) return true;
    if (!this.closedByClock(slot, now)) return false;
    return missing >= group.k || acceptanceHorizonMs(slot, config) <= now;
  }

  /** A key announcement: its key counts once t custodians cosigned it; anything else is counted by reason. */
  receiveAnnouncement(payload: Uint8Array): void {
    if (!this.endorsed || !this.o.endorsement) return;
    try {
      const announcement = verifyCosignedAnnouncement(new TextDecoder().decode(payload), this.o.endorsement.cosigners);
      this.endorsed.add(announcement.publicKey.keyId);
    } catch (e) {
      this.refuse(reasonOf(e));
    }
  }

  /** One MQTT message on a report topic. Never throws: every refusal is counted by reason. */
  receive(topic: string, payload: Uint8Array): void {
    if (this.stopped) return;
    // Only members have MAC keys (ids without a '/'), so the key's lookup is the topic's check.
    const meterId = topic.startsWith(this.reportPrefix) ? topic.slice(this.reportPrefix.length) : undefined;
    const macKey = meterId === undefined ? undefined : this.o.macKeys.get(meterId);
    if (!macKey) return this.refuse('unexpected-topic');
    let report: AuthenticatedReport;
    try {
      if (payload.length > MAX_REPORT_BYTES) return this.refuse('oversized');
      if (peekReportMeterId(payload) !== meterId) return this.refuse('meter-mismatch');
      report = decodeReport(payload, macKey, nodeHmacSha256);
    } catch (e) {
      // Not authenticated: no acknowledgement, the sender cannot be trusted to be the meter.
      return this.refuse(reasonOf(e));
    }
    const key = this.keys.get(report.keyId);
    if (!key) return this.answer(report, AckStatus.refused, 'wrong-key-id');
    if (this.custodians > 0 && report.authenticators !== this.custodians)
      return this.answer(report, AckStatus.refused, 'authenticator-count');
    // Not acknowledged: the cosigned announcement may still be on its way, and the meter resends.
    if (this.endorsed && !this.endorsed.has(key.keyId)) return this.refuse('key-not-endorsed');
    const refusal = this.check(report, key);
    if (refusal === 'duplicate') return this.answer(report, AckStatus.duplicate, 'duplicate');
    if (refusal) return this.answer(report, AckStatus.refused, refusal);
    const ciphertext = key.admit(report.ciphertext);
    if (ciphertext === undefined || (this.suspects.has(report.meterId) && key.spoiled(ciphertext)))
      return this.answer(report, AckStatus.refused, 'ciphertext-out-of-range');
    this.pending.push({ report, key, ciphertext, message: this.custodians > 0 ? payload.slice() : null });
    if (this.pending.length >= MAX_BATCH) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private check(report: Report, key: AggregationScheme): Reason | undefined {
    const { config } = this.o;
    if (report.ciphertext.length !== key.ciphertextBytes) return 'ciphertext-length';
    if (report.packed !== config.packing.readings) return 'packing-mismatch';
    const seen = this.openSeen.get(report.slot);
    if (seen ? seen.has(report.meterId) : this.o.store.hasSeen(report.slot, report.meterId)) return 'duplicate';
    const now = this.o.now();
    if (slotStartMs(report.slot, config.slotSeconds) > now + config.skewSeconds * 1000) return 'slot-in-future';
    if (!this.open.has(productKey(report.slot, key.keyId))) {
      if (acceptanceHorizonMs(report.slot, config) <= now) return 'slot-too-old';
      if (report.slot <= this.closedThrough || this.closedByClock(report.slot, now)) return 'slot-closed';
      if (this.o.store.slotState(report.slot, key.keyId) !== undefined) return 'slot-closed';
    }
    return undefined;
  }

  /**
   * Commits the pending reports in one transaction, then acknowledges them. A report whose
   * ciphertext is a multiple of n (a non-unit a meter can make without the private key) is found
   * on its batch's product, one division per product and batch instead of one per report: a
   * product that is 0 mod n rolls the transaction back, its factors are checked one by one, and
   * the batch is committed again without those that are; their meters' reports are checked one by
   * one on arrival from then on, so none can make the aggregator redo a second batch.
   */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const now = this.o.now();
    const spoilers: Pending[] = [];
    let committed: Committed;
    try {
      try {
        committed = this.commit(batch, now, true);
      } catch (e) {
        if (!(e instanceof SpoiledProducts)) throw e;
        const kept: Pending[] = [];
        for (const p of batch) (e.at.has(productKey(p.report.slot, p.key.keyId)) && p.key.spoiled(p.ciphertext) ? spoilers : kept).push(p);
        for (const p of spoilers) this.suspects.add(p.report.meterId);
        // A product still 0 mod n without them has factors of p and q from someone who can factor n: the gcd at its close refuses it.
        committed = this.commit(kept, now, false);
      }
    } catch (e) {
      // Nothing was acknowledged: the meters keep the reports in their outboxes and resend them.
      this.o.log.error(
        { reason: 'store-failed', reports: batch.length },
        `aggregator ${this.groupId}: batch of ${batch.length} not stored: ${(e as Error).message}`,
      );
      this.rejections.count('store-failed', batch.length);
      return;
    }
    for (const [at, s] of committed.updated) this.open.set(at, s);
    for (const { report } of spoilers) this.answer(report, AckStatus.refused, 'ciphertext-out-of-range');
    for (const [report, status, reason] of committed.outcomes) {
      if (status === AckStatus.stored) {
        this.accepted++;
        let seen = this.openSeen.get(report.slot);
        if (!seen) this.openSeen.set(report.slot, (seen = new Set()));
        seen.add(report.meterId);
      }
      this.answer(report, status, reason);
    }
    // A slot whose last member just reported closes now rather than at its watermark.
    if (!this.stopped) this.closeReadySlots(now);
  }

  /**
   * One transaction: records each report of the batch as seen and combines it into its product;
   * with `checkProducts`, throws SpoiledProducts (rolling it back) if a product came out spoiled.
   */
  private commit(batch: Pending[], now: number, checkProducts: boolean): Committed {
    const { store } = this.o;
    const updated = new Map<string, OpenProduct>();
    const outcomes: Committed['outcomes'] = [];
    store.transaction(() => {
      for (const { report, key, ciphertext, message } of batch) {
        const at = productKey(report.slot, key.keyId);
        const current = updated.get(at) ?? this.open.get(at);
        if (!current && store.slotState(report.slot, key.keyId) !== undefined) {
          outcomes.push([report, AckStatus.refused, 'slot-closed']);
          continue;
        }
        if (!store.recordSeen(report.slot, report.meterId, key.keyId, report.seq, now, message)) {
          outcomes.push([report, AckStatus.duplicate, 'duplicate']);
          continue;
        }
        const product = current ? key.combine(current.product, ciphertext) : ciphertext;
        updated.set(at, { slot: report.slot, keyId: key.keyId, product, count: (current?.count ?? 0) + 1 });
        outcomes.push([report, AckStatus.stored, undefined]);
      }
      if (checkProducts) {
        const spoiled = [...updated].filter(([, s]) => this.keys.get(s.keyId)!.spoiled(s.product)).map(([at]) => at);
        if (spoiled.length > 0) throw new SpoiledProducts(new Set(spoiled));
      }
      for (const s of updated.values()) store.saveOpenSlot(s.slot, s.keyId, this.keys.get(s.keyId)!.toBytes(s.product), s.count);
    });
    return { updated, outcomes };
  }

  /**
   * Closes every slot that all members have reported, and, once the backlog is in, every other
   * slot that closesNow says is due, in slot order.
   */
  closeDueSlots(): void {
    if (this.stopped) return;
    this.flush();
    this.closeReadySlots(this.o.now());
  }

  private closeReadySlots(now: number): void {
    const members = this.o.group.members.length;
    const due = [...this.open.values()]
      .filter((p) => this.closesNow(p.slot, now))
      .sort((a, b) => a.slot - b.slot || (a.keyId < b.keyId ? -1 : 1));
    // Counted before the first product of a slot closes: closing its last one forgets who reported.
    const missing = new Map(due.map((p) => [p.slot, members - (this.openSeen.get(p.slot)?.size ?? 0)]));
    for (const p of due) this.closeProduct(p, missing.get(p.slot)!, now);
    this.advanceClosedThrough(now);
  }

  /** Records that the clock closed every slot up to the latest whose closing time has passed (products or not). */
  private advanceClosedThrough(now: number): void {
    const { config } = this.o;
    if (this.liveSince === undefined || now < this.liveSince + config.latenessSeconds * 1000) return;
    const latest = slotAt(now - config.latenessSeconds * 1000, config.slotSeconds) - 1;
    if (latest <= this.closedThrough) return;
    this.o.store.setClosedThrough(latest);
    this.closedThrough = latest;
  }

  private closeProduct({ slot, keyId, product, count }: OpenProduct, missing: number, now: number): void {
    const { store, group } = this.o;
    const key = this.keys.get(keyId);
    const reason = suppressionOf(key, product, count, missing, group.k);
    this.open.delete(productKey(slot, keyId));
    if (![...this.open.values()].some((p) => p.slot === slot)) this.openSeen.delete(slot);
    if (reason || !key) {
      const why = reason ?? 'key-retired';
      store.closeSlot(slot, keyId, 'suppressed', why, null, now);
      this.suppressions.count(why);
      this.o.log.info(
        { slot, keyId, reason: why, contributors: count, missing },
        `aggregator ${group.id}: slot ${slot} under key ${keyId} suppressed (${why}, ${count} contributors, ${missing} of ${group.members.length} members missing, k=${group.k})`,
      );
      this.o.onSlotClosed?.({ groupId: group.id, slot, keyId, state: 'suppressed', count, reason: why });
      return;
    }
    const contributors = store.contributors(slot, keyId);
    const message = encodeAggregate({
      groupId: group.id,
      slot,
      keyId,
      packed: this.o.config.packing.readings,
      count: contributors.length,
      contributors,
      ciphertext: key.toBytes(product),
    });
    store.closeSlot(slot, keyId, 'closing', null, message, now);
    this.publish(slot, keyId, message);
  }

  /**
   * At-least-once: marked published on the broker's PUBACK; republished after a restart otherwise.
   * Threshold mode: the contributing reports go first, on a topic only the custodians read.
   */
  private publish(slot: number, keyId: string, message: Uint8Array): void {
    const { client, group, store } = this.o;
    if (this.custodians > 0) this.publishEvidence(slot, keyId, message);
    client.publish(aggregateTopic(group.id), Buffer.from(message), { qos: 1 }, (err) => {
      if (err || !store.db.open) return;
      store.markPublished(slot, keyId);
      const count = store.contributors(slot, keyId).length;
      this.o.log.info(
        { slot, keyId, contributors: count },
        `aggregator ${group.id}: slot ${slot} under key ${keyId} published with ${count} contributors`,
      );
      this.o.onSlotClosed?.({ groupId: group.id, slot, keyId, state: 'published', count, reason: null });
    });
  }

  private publishEvidence(slot: number, keyId: string, message: Uint8Array): void {
    const reports = this.o.store.reports(slot, keyId).filter((r) => r !== null);
    let evidence: Uint8Array;
    try {
      evidence = encodeEvidence({ aggregate: decodeAggregate(message), reports });
    } catch (e) {
      this.refuse(reasonOf(e));
      this.o.log.error(
        { slot, keyId, reason: reasonOf(e) },
        `aggregator ${this.groupId}: slot ${slot} under key ${keyId}: no evidence for the custodians: ${(e as Error).message}`,
      );
      return;
    }
    this.o.client.publish(evidenceTopic(this.groupId), Buffer.from(evidence), { qos: 1 });
  }

  private answer(report: Report, status: AckStatusCode, reason: Reason | undefined): void {
    if (reason) this.rejections.count(reason);
    const ack = encodeAck(
      { meterId: report.meterId, groupId: this.groupId, slot: report.slot, seq: report.seq, status },
      this.o.ackKeys.get(report.meterId)!,
      nodeHmacSha256,
    );
    // QoS 0: a lost acknowledgement costs one resend, which is answered "duplicate".
    this.o.client.publish(ackTopic(report.meterId), Buffer.from(ack.buffer, ack.byteOffset, ack.byteLength), { qos: 0 });
  }

  private refuse(reason: Reason): void {
    this.rejections.count(reason);
  }

  status() {
    return {
      groupId: this.groupId,
      accepted: this.accepted,
      openSlots: [...new Set([...this.open.values()].map((p) => p.slot))].sort((a, b) => a - b),
      rejections: this.rejections.toJSON(),
      suppressed: this.suppressions.toJSON(),
    };
  }

  private saveStatus(): void {
    const unsaved = this.rejections.takeUnsaved();
    if (unsaved.size > 0 && this.o.store.db.open) this.o.store.addRejections(unsaved);
    if (this.o.client.connected) {
      this.o.client.publish(aggregatorStatusTopic(this.groupId), JSON.stringify(this.status()), { qos: 0, retain: true });
    }
  }
}

/** Why a product closing with `count` contributors, `missing` of its slot's members unreported, is not published; null: it is. */
function suppressionOf(key: AggregationScheme | undefined, product: bigint, count: number, missing: number, k: number): Reason | null {
  if (!key) return 'key-retired';
  if (count < k) return 'below-k';
  if (missing > 0 && missing < k) return 'members-missing';
  return key.refuseProduct(product);
}

function reasonOf(e: unknown): Reason {
  return e instanceof MeterveilError ? e.reason : 'malformed';
}
