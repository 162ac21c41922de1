/**
 * The provider's side of a request to the custodians, whatever they hold: it publishes a request
 * for an aggregate, collects one answer per custodian (the topic names the sender: only custodian
 * i may publish there), and settles with a result or a failure that names every refusal and
 * rejected answer, or the custodians that stayed silent when the time ran out. What an answer
 * means and when there are enough of them is the scheme's combine step: Paillier's partial
 * decryptions, t of n with proofs (threshold-client.ts), or the masked scheme's mask sums, n of n
 * (masked-client.ts).
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { bytesToHex } from '../../firmware/bytes.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import type { Aggregate } from '../protocol/aggregate.ts';
import type { RejectedPartial } from '../threshold/combine.ts';
import { decodeResponse, encodeRequest, type CustodianResponse } from './messages.ts';
import { CUSTODIAN_PARTIAL_FILTER, custodianOfPartialTopic, DECRYPTION_REQUEST_TOPIC } from './topics.ts';

export interface ThresholdDecryption {
  plaintext: bigint;
  /** Custodians whose answers, checked, were combined. */
  used: number[];
  /** Answers that were not used because they failed a check (a failed proof: a forged partial). */
  rejected: RejectedPartial[];
  refused: RejectedPartial[];
}

/**
 * Not enough valid answers. `timedOut`: some custodians never answered, so asking again later
 * may succeed; otherwise every custodian answered and too many refused or sent invalid answers.
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

/** An answer that is not a refusal. */
export type CustodianAnswer = Exclude<CustodianResponse, { status: 'refused' }>;

/** One request as its combine step sees it. */
export interface RequestProgress {
  readonly refused: readonly RejectedPartial[];
  readonly rejected: readonly RejectedPartial[];
  /** Whether the request still waits (neither settled nor stopped). */
  readonly open: boolean;
  reject(answer: RejectedPartial): void;
  succeed(result: ThresholdDecryption): void;
  /** Every custodian that could still answer cannot make up what is missing. */
  giveUp(why: string): void;
}

/** What a scheme adds to the request: its state per aggregate, how it takes an answer, when it has enough. */
export interface CombineStep<S> {
  /** Names the client in its stop message. */
  readonly label: string;
  /** The state for one aggregate; throws (e.g. `wrong-key-id`) for one that is not asked for. */
  begin(aggregate: Aggregate): S;
  /** The custodians of the aggregate's key. */
  custodians(s: S): number;
  /** What the result needs and what it has, for a failure's message. */
  need(s: S): string;
  /** Keeps an answer of custodian `index`, or rejects it through `r`. */
  take(s: S, index: number, answer: CustodianAnswer, r: RequestProgress): void;
  /** After each answer: succeeds, gives up, or waits (it may check an answer later and call again). */
  progress(s: S, r: RequestProgress, again: () => void): void;
}

interface Pending<S> {
  state: S;
  refused: RejectedPartial[];
  rejected: RejectedPartial[];
  answered: Set<number>;
  resolve: (result: ThresholdDecryption) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class CustodianRequestClient<S> {
  private readonly pending = new Map<string, Pending<S>>();
  private readonly onMessage = (topic: string, payload: Buffer) => this.receive(topic, payload);

  constructor(private readonly r: { client: MqttClient; timeoutMs?: number; step: CombineStep<S> }) {}

  async start(): Promise<void> {
    this.r.client.on('message', this.onMessage);
    await this.r.client.subscribeAsync(CUSTODIAN_PARTIAL_FILTER, { qos: 1 });
  }

  stop(): void {
    this.r.client.off('message', this.onMessage);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new MeterveilError('stopped', `${this.r.step.label} stopped`));
    }
    this.pending.clear();
  }

  decrypt(aggregate: Aggregate): Promise<ThresholdDecryption> {
    const state = this.r.step.begin(aggregate);
    const requestId = bytesToHex(randomBytes(16));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.finish(requestId, this.failure(requestId, 'timed out', true)), this.r.timeoutMs ?? 30_000);
      this.pending.set(requestId, { state, refused: [], rejected: [], answered: new Set(), resolve, reject, timer });
      this.r.client.publish(DECRYPTION_REQUEST_TOPIC, Buffer.from(encodeRequest({ requestId, aggregate })), { qos: 1 });
    });
  }

  private failure(requestId: string, why: string, timedOut: boolean): ThresholdDecryptionFailure {
    const p = this.pending.get(requestId)!;
    const named = [
      ...p.refused.map((r) => `custodian ${r.index} refused: ${r.reason}`),
      ...p.rejected.map((r) => `custodian ${r.index}: ${r.reason}`),
    ];
    const silent = this.r.step.custodians(p.state) - p.answered.size;
    const message =
      `${why}: ${this.r.step.need(p.state)}` +
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

  private progressOf(requestId: string, p: Pending<S>): RequestProgress {
    const { pending } = this;
    return {
      refused: p.refused,
      rejected: p.rejected,
      get open() {
        return pending.get(requestId) === p;
      },
      reject: (answer) => p.rejected.push(answer),
      succeed: (result) => this.finish(requestId, result),
      giveUp: (why) => this.finish(requestId, this.failure(requestId, why, false)),
    };
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
    // One answer per custodian of the key counts, and only under its own topic.
    if (!p || response.index !== index || index > this.r.step.custodians(p.state) || p.answered.has(index)) return;
    p.answered.add(index);
    const { requestId } = response;
    const progress = this.progressOf(requestId, p);
    if (response.status === 'refused') p.refused.push({ index, reason: response.reason, message: response.detail });
    else this.r.step.take(p.state, index, response, progress);
    const again = () => {
      if (progress.open) this.r.step.progress(p.state, progress, again);
    };
    again();
  }
}
