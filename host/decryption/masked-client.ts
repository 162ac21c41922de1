/**
 * The provider's side of a verifiable masked deployment: it asks every custodian for the sum of
 * its masks over an aggregate's contributors, and subtracts all n of them. Each custodian answers
 * only for an aggregate it verified report by report and that passes its own policy
 * (host/custodian/custodian.ts), so one custodian that refuses, or stays silent, stops the
 * release: n of n (docs/security.md). The answers go over the same topics and messages as
 * Paillier's partial decryptions (host/decryption/messages.ts, status "mask-sum").
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { bytesToHex } from '../../firmware/bytes.ts';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import type { MaskedParams } from '../../firmware/masked/params.ts';
import type { Aggregate } from '../protocol/aggregate.ts';
import { maskedScheme, type AggregationScheme } from '../scheme/aggregation.ts';
import { unmask } from '../scheme/unmask.ts';
import type { RejectedPartial } from '../threshold/combine.ts';
import { decodeResponse, encodeRequest } from './messages.ts';
import { ThresholdDecryptionFailure, type ThresholdDecryption } from './threshold-client.ts';
import { CUSTODIAN_PARTIAL_FILTER, custodianOfPartialTopic, DECRYPTION_REQUEST_TOPIC } from './topics.ts';

interface Pending {
  sum: bigint;
  sums: Map<number, bigint>;
  refused: RejectedPartial[];
  rejected: RejectedPartial[];
  resolve: (result: ThresholdDecryption) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class MaskedCustodiansClient {
  private readonly pending = new Map<string, Pending>();
  private readonly onMessage = (topic: string, payload: Buffer) => this.receive(topic, payload);
  private readonly schemes: Map<string, AggregationScheme>;

  constructor(
    private readonly o: { client: MqttClient; keyIds: readonly string[]; custodians: number; params: MaskedParams; timeoutMs?: number },
  ) {
    this.schemes = new Map(o.keyIds.map((id) => [id, maskedScheme(id, o.params)]));
  }

  async start(): Promise<void> {
    this.o.client.on('message', this.onMessage);
    await this.o.client.subscribeAsync(CUSTODIAN_PARTIAL_FILTER, { qos: 1 });
  }

  stop(): void {
    this.o.client.off('message', this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new MeterveilError('stopped', 'masked decryption client stopped'));
    }
    this.pending.clear();
  }

  decrypt(aggregate: Aggregate): Promise<ThresholdDecryption> {
    const scheme =
      this.schemes.get(aggregate.keyId) ??
      fail('wrong-key-id', `aggregate under key ${aggregate.keyId}, not one of ${this.o.keyIds.join(', ')}`);
    const sum = scheme.parse(aggregate.ciphertext);
    const requestId = bytesToHex(randomBytes(16));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.finish(requestId, this.failure(requestId, 'timed out', true)), this.o.timeoutMs ?? 30_000);
      this.pending.set(requestId, { sum, sums: new Map(), refused: [], rejected: [], resolve, reject, timer });
      this.o.client.publish(DECRYPTION_REQUEST_TOPIC, Buffer.from(encodeRequest({ requestId, aggregate })), { qos: 1 });
    });
  }

  private failure(requestId: string, why: string, timedOut: boolean): ThresholdDecryptionFailure {
    const p = this.pending.get(requestId)!;
    const named = [
      ...p.refused.map((r) => `custodian ${r.index} refused: ${r.reason}`),
      ...p.rejected.map((r) => `custodian ${r.index}: ${r.reason}`),
    ];
    const silent = this.o.custodians - p.sums.size - p.refused.length - p.rejected.length;
    const message =
      `${why}: need the mask sums of all ${this.o.custodians} custodians, have ${p.sums.size}` +
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
    if (index === undefined || index > this.o.custodians) return;
    let response;
    try {
      response = decodeResponse(payload);
    } catch {
      return;
    }
    const p = this.pending.get(response.requestId);
    // The topic names the sender (only custodian i may publish there); one answer per custodian counts.
    const answered = p && (p.sums.has(index) || [...p.refused, ...p.rejected].some((r) => r.index === index));
    if (!p || response.index !== index || answered) return;
    if (response.status === 'refused') p.refused.push({ index, reason: response.reason, message: response.detail });
    else if (response.status === 'partial')
      p.rejected.push({
        index,
        reason: 'wrong-message-type',
        message: `custodian ${index} answered a masked aggregate with a partial decryption`,
      });
    else p.sums.set(index, BigInt('0x' + response.maskSum));
    // n of n: one custodian refusing is final for this aggregate.
    if (p.refused.length + p.rejected.length > 0)
      return this.finish(response.requestId, this.failure(response.requestId, 'a custodian refused', false));
    if (p.sums.size < this.o.custodians) return;
    const used = [...p.sums.keys()].sort((a, b) => a - b);
    this.finish(response.requestId, { plaintext: unmask(p.sum, [...p.sums.values()], this.o.params), used, rejected: [], refused: [] });
  }
}
