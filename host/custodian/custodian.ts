/**
 * A custodian: holds its share of each key of the provider's ring (one key, or during a key
 * rotation the old and the new) and gives its partial decryption of an aggregate, with the share
 * of the key the aggregate names, only if
 *   - an aggregator published exactly that aggregate on its group's topic (the provider cannot
 *     slip in a single meter's ciphertext dressed up as an aggregate),
 *   - the aggregate passes the provider's own policy (host/policy/decryption-policy.ts): contributors all
 *     members of the group, at least k of them; each (group, slot, key id) once, and the parts of
 *     one (group, slot) under several keys with disjoint contributors; with what this custodian
 *     already helped decrypt for that slot, part by part, and every group's feeder reading, no
 *     cell of meters below its k (host/policy/disclosure.ts),
 * and records it durably before answering. A second request for the same aggregate gets the same
 * partial again, which reveals nothing new.
 */
import { MeterveilError } from '../../firmware/errors.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import type { GroupConfig, MeterveilConfig } from '../config/schema.ts';
import { aggregateHash, decodeAggregate, type Aggregate } from '../protocol/aggregate.ts';
import { groupOfAggregateTopic } from '../protocol/topics.ts';
import { checkMembership, type Refusal } from '../policy/decryption-policy.ts';
import { DisclosureRule } from '../policy/disclosure.ts';
import { ReasonCounter } from '../store/reason-counter.ts';
import { partialToJson } from '../threshold/codec.ts';
import { partialDecrypt } from '../threshold/partial.ts';
import type { ProofNoncePool } from '../threshold/nonce-pool.ts';
import type { KeyShare } from '../threshold/threshold-key.ts';
import { decodeRequest, type CustodianResponse } from '../decryption/messages.ts';
import { checkedShares } from './shares.ts';
import type { CustodianStore } from './store.ts';

export interface CustodianOptions {
  config: MeterveilConfig;
  /** This custodian's shares, one per key id, all with the same custodian index. */
  shares: readonly KeyShare[];
  store: CustodianStore;
  /** Proof nonces prepared in idle time, by key id; without one (or with the pool empty) a partial takes one exponentiation more. */
  nonces?: ReadonlyMap<string, ProofNoncePool>;
  /** How long a request may wait for the aggregator's own copy of the aggregate to arrive. */
  waitForAggregateMs?: number;
  /** How long aggregates seen on the aggregate topics are remembered. */
  rememberAggregatesMs?: number;
  now?: () => number;
  log?: (line: string) => void;
}

interface Waiter {
  resolve: (seen: boolean) => void;
}

export class Custodian {
  readonly refusals = new ReasonCounter();
  private readonly groups: Map<string, GroupConfig>;
  /** The provider's disclosure rule, applied to this custodian's own record and every group's feeder. */
  private readonly disclosure: DisclosureRule;
  /** Aggregates an aggregator published, by hash, with the time they were seen. */
  private readonly seen = new Map<string, number>();
  private readonly waiters = new Map<string, Waiter[]>();
  private readonly now: () => number;
  private readonly log: (line: string) => void;
  private readonly shares: Map<string, KeyShare>;

  constructor(private readonly o: CustodianOptions) {
    this.shares = checkedShares(o.shares);
    this.groups = new Map(o.config.groups.map((g) => [g.id, g]));
    this.disclosure = new DisclosureRule(o.config.groups);
    this.now = o.now ?? Date.now;
    this.log = o.log ?? (() => {});
  }

  get index(): number {
    return this.o.shares[0].index;
  }

  /**
   * A message on an aggregator's topic (the broker lets only that group's aggregator publish
   * there). Recorded durably before MQTT.js acknowledges it, so a restart does not forget it.
   */
  noteAggregate(topic: string, payload: Uint8Array): void {
    let aggregate: Aggregate;
    try {
      aggregate = decodeAggregate(payload);
    } catch {
      return;
    }
    if (groupOfAggregateTopic(topic) !== aggregate.groupId) return;
    const hash = aggregateHash(aggregate);
    const now = this.now();
    const horizon = now - (this.o.rememberAggregatesMs ?? 24 * 3600_000);
    this.o.store.noteSeen(hash, now, horizon);
    this.seen.set(hash, now);
    for (const waiter of this.waiters.get(hash) ?? []) waiter.resolve(true);
    this.waiters.delete(hash);
    for (const [h, at] of this.seen) if (at < horizon) this.seen.delete(h);
  }

  private aggregatorPublished(hash: string): Promise<boolean> {
    if (this.seen.has(hash) || this.o.store.wasSeen(hash)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { resolve };
      this.waiters.set(hash, [...(this.waiters.get(hash) ?? []), waiter]);
      setTimeout(() => {
        this.waiters.set(
          hash,
          (this.waiters.get(hash) ?? []).filter((w) => w !== waiter),
        );
        resolve(this.seen.has(hash));
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
      this.log(`custodian ${this.index}: refused ${aggregate.groupId}/${aggregate.slot}: ${refusal.reason} (${refusal.detail})`);
      return { ...head, status: 'refused', reason: refusal.reason, detail: refusal.detail };
    };

    const group = this.groups.get(aggregate.groupId);
    if (!group) return refuse({ reason: 'unknown-group', detail: `no group ${aggregate.groupId} in the config` });
    const share = this.shares.get(aggregate.keyId);
    if (!share)
      return refuse({
        reason: 'wrong-key-id',
        detail: `key ${aggregate.keyId}, this custodian holds shares of ${[...this.shares.keys()].join(', ')}`,
      });
    if (aggregate.packed !== this.o.config.packing.readings)
      return refuse({ reason: 'packing-mismatch', detail: `packed ${aggregate.packed}` });
    const membership = checkMembership(aggregate, group);
    if (membership) return refuse(membership);
    // Asked again (the provider retries after a restart or a timeout): the partial already given
    // reveals nothing new, and this custodian may have restarted since it saw the aggregate.
    const given = this.o.store.helped(group.id, aggregate.slot, aggregate.keyId);
    if (given?.aggregateHash === hash) return { ...head, status: 'partial', partial: JSON.parse(given.partial) };
    if (!(await this.aggregatorPublished(hash))) {
      return refuse({ reason: 'unverified-aggregate', detail: `the aggregator of ${group.id} did not publish this aggregate` });
    }

    const { store } = this.o;
    return store.transaction((): CustodianResponse => {
      const parts = store.helpedOf(group.id, aggregate.slot);
      const earlier = parts.find((p) => p.keyId === aggregate.keyId);
      if (earlier) {
        if (earlier.aggregateHash === hash) return { ...head, status: 'partial', partial: JSON.parse(earlier.partial) };
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
      let partial;
      try {
        const c = ciphertextFromBytes(share.publicKey.paillier, aggregate.ciphertext);
        partial = partialToJson(partialDecrypt(share, c, undefined, this.o.nonces?.get(share.publicKey.keyId)?.take()));
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
        partial: JSON.stringify(partial),
        helpedAt: this.now(),
      });
      return { ...head, status: 'partial', partial };
    });
  }
}
