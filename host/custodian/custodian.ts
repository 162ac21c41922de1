/**
 * A custodian: holds its share of each key of the provider's ring (one key, or during a key
 * rotation the old and the new) and gives its partial decryption of an aggregate, with the share
 * of the key the aggregate names, only if
 *   - the group's aggregator gave the custodians that aggregate with its contributing reports, and
 *     every report carries this custodian's authenticator (a key the meter shares with this
 *     custodian alone), is for the aggregate's slot and key, the reports are exactly the listed
 *     contributors and the aggregate is their product, recomputed here (host/custodian/evidence.ts):
 *     neither the provider nor an aggregator holding its members' MAC keys can have a single
 *     meter's ciphertext decrypted as a total,
 *   - the aggregate passes the provider's own policy (host/policy/decryption-policy.ts): contributors all
 *     members of the group, at least k of them; each (group, slot, key id) once, and the parts of
 *     one (group, slot) under several keys with disjoint contributors; with what this custodian
 *     already helped decrypt for that slot, part by part, and every group's feeder reading, no
 *     cell of meters below its k (host/policy/disclosure.ts),
 * and records it durably before answering. A second request for the same aggregate gets the same
 * partial again, which reveals nothing new.
 */
import { silentLog, type RoleLog } from '../log/logger.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import type { GroupConfig, MeterveilConfig } from '../config/schema.ts';
import { aggregateHash, type Aggregate } from '../protocol/aggregate.ts';
import { decodeEvidence, type AggregateEvidence } from '../protocol/evidence.ts';
import { groupOfEvidenceTopic } from '../protocol/topics.ts';
import { checkMembership, type Refusal } from '../policy/decryption-policy.ts';
import { beyondHorizon } from '../policy/horizon.ts';
import { DisclosureRule } from '../policy/disclosure.ts';
import { ReasonCounter } from '../store/reason-counter.ts';
import type { ProofNoncePool } from '../threshold/nonce-pool.ts';
import type { KeyShare } from '../threshold/threshold-key.ts';
import { decodeRequest, type CustodianResponse } from '../decryption/messages.ts';
import { checkEvidence } from './evidence.ts';
import { shareHolding, type Holding, type HoldingAnswer } from './holding.ts';
import type { CustodianStore } from './store.ts';

export interface CustodianOptions {
  config: MeterveilConfig;
  /** This custodian's shares, one per key id, all with the same custodian index (unless `holding` is given). */
  shares: readonly KeyShare[];
  /** What it holds and answers with, when not shares of Paillier keys (a masked deployment's mask keys: host/custodian/holding.ts). */
  holding?: Holding;
  store: CustodianStore;
  /** Proof nonces prepared in idle time, by key id; without one (or with the pool empty) a partial takes one exponentiation more. */
  nonces?: ReadonlyMap<string, ProofNoncePool>;
  /** The key this custodian shares with a meter (its authenticator in the meter's reports); undefined: none. */
  meterKey: (meterId: string) => Uint8Array | undefined;
  /** How long a request may wait for the aggregator's evidence of the aggregate to arrive. */
  waitForAggregateMs?: number;
  /** How long verified aggregates and refused evidence are remembered. */
  rememberAggregatesMs?: number;
  now?: () => number;
  log?: RoleLog;
}

interface Waiter {
  resolve: () => void;
}

/** Evidence is checked per (group, slot, key id): the unit a custodian decrypts once. */
const partKey = (a: Pick<Aggregate, 'groupId' | 'slot' | 'keyId'>) => `${a.groupId}/${a.slot}/${a.keyId}`;

export class Custodian {
  readonly refusals = new ReasonCounter();
  private readonly groups: Map<string, GroupConfig>;
  /** The provider's disclosure rule, applied to this custodian's own record and every group's feeder. */
  private readonly disclosure: DisclosureRule;
  /** Aggregates whose evidence verified, by hash, with the time it arrived. */
  private readonly seen = new Map<string, number>();
  /** Evidence that did not verify, by partKey: a request for that part is refused with its reason. */
  private readonly refusedEvidence = new Map<string, Refusal & { at: number }>();
  /** Requests waiting for evidence, by partKey. */
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly now: () => number;
  private readonly log: RoleLog;
  private readonly holding: Holding;

  constructor(private readonly o: CustodianOptions) {
    this.holding = o.holding ?? shareHolding(o.shares, o.nonces);
    this.groups = new Map(o.config.groups.map((g) => [g.id, g]));
    this.disclosure = new DisclosureRule(o.config.groups);
    this.now = o.now ?? Date.now;
    this.log = o.log ?? silentLog;
  }

  get index(): number {
    return this.holding.index;
  }

  /**
   * A message on a group's evidence topic (the broker lets only that group's aggregator publish
   * there, and only custodians read it). Checked at once; a verified aggregate is recorded durably
   * before MQTT.js acknowledges the message, so a restart does not forget it.
   */
  noteEvidence(topic: string, payload: Uint8Array): void {
    let evidence: AggregateEvidence;
    try {
      evidence = decodeEvidence(payload);
    } catch (e) {
      this.refusals.count(e instanceof MeterveilError ? e.reason : 'malformed');
      return;
    }
    const { aggregate } = evidence;
    if (groupOfEvidenceTopic(topic) !== aggregate.groupId) {
      this.refusals.count('topic-mismatch');
      return;
    }
    const now = this.now();
    const horizon = now - (this.o.rememberAggregatesMs ?? 24 * 3600_000);
    const scheme = this.holding.scheme(aggregate.keyId);
    // Without its key the request is refused by key id anyway.
    if (!scheme) return;
    const refusal = checkEvidence(evidence, scheme, { index: this.index, keyOf: this.o.meterKey });
    const part = partKey(aggregate);
    if (refusal) {
      this.log.warn(
        { group: aggregate.groupId, slot: aggregate.slot, reason: refusal.reason },
        `custodian ${this.index}: evidence of ${part} refused: ${refusal.reason} (${refusal.detail})`,
      );
      this.refusedEvidence.set(part, { ...refusal, at: now });
    } else {
      const hash = aggregateHash(aggregate);
      this.o.store.noteSeen(hash, now, horizon);
      this.seen.set(hash, now);
    }
    for (const waiter of this.waiters.get(part) ?? []) waiter.resolve();
    this.waiters.delete(part);
    for (const [h, at] of this.seen) if (at < horizon) this.seen.delete(h);
    for (const [k, r] of this.refusedEvidence) if (r.at < horizon) this.refusedEvidence.delete(k);
  }

  private verified(hash: string): boolean {
    return this.seen.has(hash) || this.o.store.wasSeen(hash);
  }

  /** Waits until evidence for the aggregate's part arrives (or the wait ends); true if the aggregate verified. */
  private evidenceFor(aggregate: Aggregate, hash: string): Promise<boolean> {
    const part = partKey(aggregate);
    if (this.verified(hash)) return Promise.resolve(true);
    if (this.refusedEvidence.has(part)) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter = { resolve: () => resolve(this.verified(hash)) };
      this.waiters.set(part, [...(this.waiters.get(part) ?? []), waiter]);
      setTimeout(() => {
        this.waiters.set(
          part,
          (this.waiters.get(part) ?? []).filter((w) => w !== waiter),
        );
        waiter.resolve();
      }, this.o.waitForAggregateMs ?? 10_000);
    });
  }

  /** Answers one request: a partial decryption or a named refusal. Undefined for undecodable input. */
  async handleRequest(payload: Uint8Array): Promise<CustodianResponse | undefined> {
    let requestId: string;
    let aggregate: Aggregate;
    try {
      ({ requestId, aggregate } = decodeRequest(payload));
    } catch (e) {
      this.refusals.count(e instanceof MeterveilError ? e.reason : 'malformed');
      return undefined;
    }
    const head = { requestId, index: this.index, groupId: aggregate.groupId, slot: aggregate.slot };
    const hash = aggregateHash(aggregate);
    const refuse = (refusal: Refusal): CustodianResponse => {
      this.refusals.count(refusal.reason);
      this.o.store.insertRefusal({ requestId, groupId: aggregate.groupId, slot: aggregate.slot, ...refusal, receivedAt: this.now() });
      this.log.warn(
        { group: aggregate.groupId, slot: aggregate.slot, reason: refusal.reason },
        `custodian ${this.index}: refused ${aggregate.groupId}/${aggregate.slot}: ${refusal.reason} (${refusal.detail})`,
      );
      return { ...head, status: 'refused', reason: refusal.reason, detail: refusal.detail };
    };

    const group = this.groups.get(aggregate.groupId);
    if (!group) return refuse({ reason: 'unknown-group', detail: `no group ${aggregate.groupId} in the config` });
    // By this custodian's own clock, before its record is looked for: collection may have forgotten the slot's.
    const tooOld = beyondHorizon(aggregate.slot, this.o.config, this.now());
    if (tooOld) return refuse(tooOld);
    if (!this.holding.scheme(aggregate.keyId))
      return refuse({
        reason: 'wrong-key-id',
        detail: `key ${aggregate.keyId}, this custodian holds keys ${this.holding.keyIds.join(', ')}`,
      });
    if (aggregate.packed !== this.o.config.packing.readings)
      return refuse({ reason: 'packing-mismatch', detail: `packed ${aggregate.packed}` });
    const membership = checkMembership(aggregate, group);
    if (membership) return refuse(membership);
    // Asked again (the provider retries after a restart or a timeout): the partial already given
    // reveals nothing new, and this custodian may have restarted since it saw the aggregate.
    const given = this.o.store.helped(group.id, aggregate.slot, aggregate.keyId);
    if (given?.aggregateHash === hash) return { ...head, ...this.storedAnswer(given.partial) };
    if (!(await this.evidenceFor(aggregate, hash))) {
      const refused = this.refusedEvidence.get(partKey(aggregate));
      if (refused) return refuse({ reason: refused.reason, detail: refused.detail });
      return refuse({
        reason: 'unverified-aggregate',
        detail: `the aggregator of ${group.id} gave the custodians no reports that make up this aggregate`,
      });
    }

    const { store } = this.o;
    return store.transaction((): CustodianResponse => {
      const parts = store.helpedOf(group.id, aggregate.slot);
      const earlier = parts.find((p) => p.keyId === aggregate.keyId);
      if (earlier) {
        if (earlier.aggregateHash === hash) return { ...head, ...this.storedAnswer(earlier.partial) };
        return refuse({
          reason: 'already-decrypted',
          detail: `slot ${aggregate.slot} of ${group.id} under key ${aggregate.keyId} was decrypted before`,
        });
      }
      // A part under another key (a rotation): a meter in two parts would be counted twice.
      const counted = new Set(parts.flatMap((p) => p.contributors));
      const twice = aggregate.contributors.filter((m) => counted.has(m));
      if (twice.length > 0) {
        return refuse({
          reason: 'overlapping-parts',
          detail: `${twice.length} contributor(s) already counted in slot ${aggregate.slot} of ${group.id} under another key`,
        });
      }
      const disclosure = this.disclosure.refusal([
        ...store.helpedSetsForSlot(aggregate.slot),
        { group: group.id, contributors: aggregate.contributors },
      ]);
      if (disclosure) return refuse(disclosure);
      let answer: HoldingAnswer;
      try {
        answer = this.holding.answer(aggregate);
      } catch (e) {
        if (e instanceof MeterveilError) return refuse({ reason: e.reason, detail: e.message });
        throw e;
      }
      store.insertHelped({
        groupId: group.id,
        slot: aggregate.slot,
        keyId: aggregate.keyId,
        contributors: aggregate.contributors,
        aggregateHash: hash,
        partial: JSON.stringify(answer.status === 'partial' ? answer.partial : { maskSum: answer.maskSum }),
        helpedAt: this.now(),
      });
      return { ...head, ...answer };
    });
  }

  /** The answer recorded for a part: a partial decryption as JSON, or a masked deployment's {"maskSum"}. */
  private storedAnswer(json: string): HoldingAnswer {
    const stored = JSON.parse(json);
    return typeof stored.maskSum === 'string' ? { status: 'mask-sum', maskSum: stored.maskSum } : { status: 'partial', partial: stored };
  }
}
