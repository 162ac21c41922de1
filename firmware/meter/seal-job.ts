/**
 * The per-slot work of seal.ts spread over loop turns, for a platform whose MAC is portable
 * JavaScript (the XS simulation): there the report's digest (HMAC-SHA256 over about 600 bytes,
 * about 360,000 computrons) alone would make the slot's closing turn the longest of the loop, 0.07
 * of a classic r^n. The closing turn packs and encrypts; the next turns hash MAC_STEP_BYTES of the
 * report each, then one custodian's authenticator each, and the last stores and returns the entry.
 * The sequence number and drop count the report carries are the ones the outbox would give it when
 * the job starts; if they changed by the time it stores (an acknowledgement or a refused write in
 * between), the report is encoded again in that turn with the numbers it gets.
 */
import { ciphertextToBytes } from '../paillier/codec.ts';
import type { MacState, MacStream } from '../protocol/mac.ts';
import { encodeReport, finishReport, REPORT_DIGEST_KEY, reportBody, type Report } from '../protocol/report.ts';
import type { SlotReadings } from './energy.ts';
import type { OutboxEntry } from './outbox.ts';
import type { SealContext } from './seal.ts';

/** Bytes of the report hashed per turn: four SHA-256 blocks, about 130,000 computrons in XS. */
export const MAC_STEP_BYTES = 256;

export class SealJob {
  private readonly ciphertext: Uint8Array;
  private report: Report | undefined;
  private body: Uint8Array | undefined;
  private state: MacState | undefined;
  private hashed = 0;
  private digest: Uint8Array | undefined;
  private readonly authenticators: Uint8Array[] = [];
  private finished = false;
  /** The stored entry once done; undefined when done and the storage had no room even for it alone. */
  entry: OutboxEntry | undefined;

  constructor(
    private readonly context: SealContext,
    private readonly closed: SlotReadings,
    rn: bigint,
    private readonly stream: MacStream,
  ) {
    const { publicKey: key, packing } = context;
    const plaintext = packing.pack(closed.readings.map((r) => BigInt(r)));
    this.ciphertext = ciphertextToBytes(key, key.encryptWithRn(plaintext, rn));
  }

  get slot(): number {
    return this.closed.slot;
  }

  get done(): boolean {
    return this.finished;
  }

  /** One turn's part. */
  step(): void {
    const { context } = this;
    if (this.finished) return;
    if (!this.report || !this.body || !this.state) {
      // Numbered when it reaches the head of the queue, after the reports ahead of it were stored.
      const { seq, dropped } = context.outbox.nextNumbers();
      const { config, publicKey: key } = context;
      const { slot, readings } = this.closed;
      this.report = { keyId: key.keyId, meterId: config.meterId, slot, seq, dropped, packed: readings.length, ciphertext: this.ciphertext };
      this.body = reportBody(this.report);
      this.state = this.stream(REPORT_DIGEST_KEY);
      return;
    }
    if (this.hashed < this.body.length) {
      this.state.update(this.body.subarray(this.hashed, this.hashed + MAC_STEP_BYTES));
      this.hashed += MAC_STEP_BYTES;
      return;
    }
    if (!this.digest) this.digest = this.state.digest();
    if (this.authenticators.length < context.custodianKeys.length) {
      this.authenticators.push(context.mac(context.custodianKeys[this.authenticators.length], this.digest));
      return;
    }
    const { report, body, digest, authenticators } = this;
    // Done even if the push throws (storage-full from the counters): the report is then lost, as a sealed-at-once one would be.
    this.finished = true;
    this.entry = context.outbox.push(report.slot, (seq, dropped) =>
      seq === report.seq && dropped === report.dropped
        ? finishReport(body, digest, authenticators, context.config.macKey, context.mac)
        : encodeReport({ ...report, seq, dropped }, context.config.macKey, context.mac, context.custodianKeys),
    );
  }
}
