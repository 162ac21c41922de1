/**
 * The provider's side of threshold decryption: publishes a request for an aggregate, collects the
 * custodians' answers, checks each partial's proof (an invalid one is rejected by custodian index
 * and reason), and combines as soon as T valid partials are in. It fails with a named reason when
 * too many custodians refuse or the time runs out. The provider calls decrypt() where it would
 * call the private key's decrypt in single-key mode.
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { bytesToHex } from '../../firmware/bytes.ts';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import type { Aggregate } from '../protocol/aggregate.ts';
import { partialFromJson } from '../threshold/codec.ts';
import { combineVerified, type RejectedPartial } from '../threshold/combine.ts';
import { verifyPartial, type PartialDecryption } from '../threshold/partial.ts';
import type { ThresholdPublicKey } from '../threshold/threshold-key.ts';
import { decodeResponse, encodeRequest } from './messages.ts';
import { CUSTODIAN_PARTIAL_FILTER, custodianOfPartialTopic, DECRYPTION_REQUEST_TOPIC } from './topics.ts';

export interface ThresholdDecryption {
  plaintext: bigint;
  used: number[];
  rejected: RejectedPartial[];
  refused: RejectedPartial[];
}

/**
 * Fewer than T valid partials. `timedOut`: some custodians never answered, so asking again later
 * may succeed; otherwise every custodian answered and too many refused or sent invalid partials.
 */
export class ThresholdDecryptionFailure extends MeterveilError {
  constructor(message: string, readonly timedOut: boolean, readonly refused: RejectedPartial[], readonly rejected: RejectedPartial[]) {
    super('not-enough-partials', message);
  }
}

interface Pending {
  c: bigint;
  valid: PartialDecryption[];
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

  constructor(private readonly o: { client: MqttClient; publicKey: ThresholdPublicKey; timeoutMs?: number }) {}

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
    const key = this.o.publicKey;
    if (aggregate.keyId !== key.keyId) fail('wrong-key-id', `aggregate under key ${aggregate.keyId}, custodians hold shares of ${key.keyId}`);
    const c = ciphertextFromBytes(key.paillier, aggregate.ciphertext);
    const requestId = bytesToHex(randomBytes(16));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.finish(requestId, this.failure(requestId, 'timed out', true)), this.o.timeoutMs ?? 30_000);
      this.pending.set(requestId, { c, valid: [], rejected: [], refused: [], answered: new Set(), resolve, reject, timer });
      this.o.client.publish(DECRYPTION_REQUEST_TOPIC, Buffer.from(encodeRequest({ requestId, aggregate })), { qos: 1 });
    });
  }

  private failure(requestId: string, why: string, timedOut: boolean): ThresholdDecryptionFailure {
    const p = this.pending.get(requestId)!;
    const named = [...p.refused.map((r) => `custodian ${r.index} refused: ${r.reason}`), ...p.rejected.map((r) => `custodian ${r.index}: ${r.reason}`)];
    const silent = this.o.publicKey.custodians - p.answered.size;
    const message = `${why}: need ${this.o.publicKey.threshold} valid partial decryptions, have ${p.valid.length}`
      + `${named.length ? ` (${named.join('; ')})` : ''}${timedOut ? `, ${silent} custodian(s) did not answer` : ''}`;
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
    const key = this.o.publicKey;
    if (response.status === 'refused') {
      p.refused.push({ index, reason: response.reason, message: response.detail });
    } else {
      try {
        const partial = partialFromJson(response.partial);
        if (partial.index !== index) fail('partial-index-mismatch', `custodian ${index} sent a partial for index ${partial.index}`);
        verifyPartial(key, p.c, partial);
        p.valid.push(partial);
      } catch (e) {
        if (!(e instanceof MeterveilError)) throw e;
        p.rejected.push({ index, reason: e.reason, message: e.message });
      }
    }
    if (p.valid.length >= key.threshold) {
      const chosen = [...p.valid].sort((a, b) => a.index - b.index).slice(0, key.threshold);
      const plaintext = combineVerified(key, chosen);
      return this.finish(response.requestId, { plaintext, used: chosen.map((x) => x.index), rejected: p.rejected, refused: p.refused });
    }
    if (key.custodians - p.refused.length - p.rejected.length < key.threshold) {
      this.finish(response.requestId, this.failure(response.requestId, 'too many custodians refused or failed', false));
    }
  }
}
