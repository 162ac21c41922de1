/**
 * The provider's side of threshold decryption: publishes a request for an aggregate, collects the
 * custodians' answers and combines, and fails with a named reason when too many custodians refuse
 * or the time runs out. The provider calls decrypt() where it would call the private key's
 * decrypt in single-key mode. It holds the provider's ring of threshold public keys: an aggregate
 * is decrypted under the key its key id names (the custodians answer with their share of that
 * key), and a key id outside the ring is refused (`wrong-key-id`) before anything is asked.
 *
 * Proofs are checked one partial at a time while answers come in (an invalid one is rejected by
 * custodian index and reason, and the next answer is checked in its place); only T partials whose
 * proofs were checked are ever combined, so the result is the aggregate's plaintext whatever
 * fewer than T custodians send. No consistency shortcut: T + 1 unchecked partials that agree prove
 * nothing when two or more of them come from custodians shifting their partials together.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { bytesToHex } from '../../firmware/bytes.ts';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import type { Aggregate } from '../protocol/aggregate.ts';
import { partialFromJson } from '../threshold/codec.ts';
import { combineVerified, type RejectedPartial } from '../threshold/combine.ts';
import { checkPartialForm, verifyPartial, type PartialDecryption } from '../threshold/partial.ts';
import type { ThresholdPublicKey } from '../threshold/threshold-key.ts';
import { decodeResponse, encodeRequest } from './messages.ts';
import { CUSTODIAN_PARTIAL_FILTER, custodianOfPartialTopic, DECRYPTION_REQUEST_TOPIC } from './topics.ts';

export interface ThresholdDecryption {
  plaintext: bigint;
  /** Custodians whose partials, proofs checked, were combined. */
  used: number[];
  /** Answers that were not used because they failed a check (a failed proof: a forged partial). */
  rejected: RejectedPartial[];
  refused: RejectedPartial[];
}

/**
 * Fewer than T valid partials. `timedOut`: some custodians never answered, so asking again later
 * may succeed; otherwise every custodian answered and too many refused or sent invalid partials.
 */
export class ThresholdDecryptionFailure extends MeterveilError {
  constructor(
    message: string,
    readonly timedOut: boolean,
    readonly refused: RejectedPartial[],
    readonly rejected: RejectedPartial[],
  ) {
    super('not-enough-partials', message);
  }
}

interface Pending {
  /** The key the aggregate is under: the partials must be shares of it. */
  key: ThresholdPublicKey;
  c: bigint;
  /** Answers that passed the cheap checks, proofs checked or not. */
  received: PartialDecryption[];
  checked: Set<number>;
  verifying: boolean;
  rejected: RejectedPartial[];
  refused: RejectedPartial[];
  answered: Set<number>;
  resolve: (result: ThresholdDecryption) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class ThresholdDecryptionClient {
  private readonly pending = new Map<string, Pending>();
  private readonly onMessage = (topic: string, payload: Buffer) => this.receive(topic, payload);
  private readonly keys: Map<string, ThresholdPublicKey>;

  /** publicKeys: the key ring; each aggregate is decrypted with the key its key id names. */
  constructor(private readonly o: { client: MqttClient; publicKeys: readonly ThresholdPublicKey[]; timeoutMs?: number }) {
    this.keys = new Map(o.publicKeys.map((k) => [k.keyId, k]));
  }

  async start(): Promise<void> {
    this.o.client.on('message', this.onMessage);
    await this.o.client.subscribeAsync(CUSTODIAN_PARTIAL_FILTER, { qos: 1 });
  }

  stop(): void {
    this.o.client.off('message', this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new MeterveilError('stopped', 'threshold decryption client stopped'));
    }
    this.pending.clear();
  }

  decrypt(aggregate: Aggregate): Promise<ThresholdDecryption> {
    const key =
      this.keys.get(aggregate.keyId) ??
      fail('wrong-key-id', `aggregate under key ${aggregate.keyId}, custodians hold shares of ${[...this.keys.keys()].join(', ')}`);
    const c = ciphertextFromBytes(key.paillier, aggregate.ciphertext);
    const requestId = bytesToHex(randomBytes(16));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.finish(requestId, this.failure(requestId, 'timed out', true)), this.o.timeoutMs ?? 30_000);
      this.pending.set(requestId, {
        key,
        c,
        received: [],
        checked: new Set(),
        verifying: false,
        rejected: [],
        refused: [],
        answered: new Set(),
        resolve,
        reject,
        timer,
      });
      this.o.client.publish(DECRYPTION_REQUEST_TOPIC, Buffer.from(encodeRequest({ requestId, aggregate })), { qos: 1 });
    });
  }

  private failure(requestId: string, why: string, timedOut: boolean): ThresholdDecryptionFailure {
    const p = this.pending.get(requestId)!;
    const named = [
      ...p.refused.map((r) => `custodian ${r.index} refused: ${r.reason}`),
      ...p.rejected.map((r) => `custodian ${r.index}: ${r.reason}`),
    ];
    const silent = p.key.custodians - p.answered.size;
    const message =
      `${why}: need ${p.key.threshold} valid partial decryptions, have ${p.received.length}` +
      `${named.length ? ` (${named.join('; ')})` : ''}${timedOut ? `, ${silent} custodian(s) did not answer` : ''}`;
    return new ThresholdDecryptionFailure(message, timedOut, p.refused, p.rejected);
  }

  private finish(requestId: string, outcome: ThresholdDecryption | Error): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    clearTimeout(p.timer);
    this.pending.delete(requestId);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  private receive(topic: string, payload: Buffer): void {
    const index = custodianOfPartialTopic(topic);
    if (index === undefined) return;
    let response;
    try {
      response = decodeResponse(payload);
    } catch {
      return;
    }
    const p = this.pending.get(response.requestId);
    // The topic names the sender (only custodian i may publish there); one answer per custodian counts.
    if (!p || response.index !== index || p.answered.has(index)) return;
    p.answered.add(index);
    if (response.status === 'refused') {
      p.refused.push({ index, reason: response.reason, message: response.detail });
    } else if (response.status === 'mask-sum') {
      p.rejected.push({ index, reason: 'wrong-message-type', message: `custodian ${index} answered a Paillier aggregate with a mask sum` });
    } else {
      try {
        const partial = partialFromJson(response.partial);
        if (partial.index !== index) fail('partial-index-mismatch', `custodian ${index} sent a partial for index ${partial.index}`);
        checkPartialForm(p.key, partial);
        p.received.push(partial);
      } catch (e) {
        if (!(e instanceof MeterveilError)) throw e;
        p.rejected.push({ index, reason: e.reason, message: e.message });
      }
    }
    this.progress(response.requestId);
  }

  /** Combines if T proofs are checked; otherwise checks one more proof, letting further answers in between. */
  private progress(requestId: string): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    const { key } = p;
    const checked = p.received.filter((x) => p.checked.has(x.index));
    if (checked.length >= key.threshold) {
      const chosen = checked.sort((a, b) => a.index - b.index).slice(0, key.threshold);
      return this.finish(requestId, {
        plaintext: combineVerified(key, chosen),
        used: chosen.map((x) => x.index),
        rejected: p.rejected,
        refused: p.refused,
      });
    }
    if (key.custodians - p.refused.length - p.rejected.length < key.threshold) {
      return this.finish(requestId, this.failure(requestId, 'too many custodians refused or failed', false));
    }
    const next = p.received.find((x) => !p.checked.has(x.index));
    if (!next || p.verifying) return;
    p.verifying = true;
    setImmediate(() => {
      p.verifying = false;
      if (!this.pending.has(requestId)) return;
      try {
        verifyPartial(key, p.c, next);
        p.checked.add(next.index);
      } catch (e) {
        if (!(e instanceof MeterveilError)) throw e;
        p.received = p.received.filter((x) => x !== next);
        p.rejected.push({ index: next.index, reason: e.reason, message: e.message });
      }
      this.progress(requestId);
    });
  }
}
