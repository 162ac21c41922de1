/**
 * The provider's side of threshold decryption: the custodian request client
 * (request-client.ts) with Paillier's combine step. The provider calls decrypt() where it would
 * call the private key's decrypt in single-key mode. It holds the provider's ring of threshold
 * public keys: an aggregate is decrypted under the key its key id names (the custodians answer
 * with their share of that key), and a key id outside the ring is refused (`wrong-key-id`) before
 * anything is asked.
 *
 * Proofs are checked one partial at a time while answers come in (an invalid one is rejected by
 * custodian index and reason, and the next answer is checked in its place); only T partials whose
 * proofs were checked are ever combined, so the result is the aggregate's plaintext whatever
 * fewer than T custodians send. No consistency shortcut: T + 1 unchecked partials that agree prove
 * nothing when two or more of them come from custodians shifting their partials together.
 */
import type { MqttClient } from 'mqtt';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import { ciphertextFromBytes } from '../../firmware/paillier/codec.ts';
import { partialFromJson } from '../threshold/codec.ts';
import { combineVerified } from '../threshold/combine.ts';
import { checkPartialForm, verifyPartial, type PartialDecryption } from '../threshold/partial.ts';
import type { ThresholdPublicKey } from '../threshold/threshold-key.ts';
import { CustodianRequestClient, type CombineStep } from './request-client.ts';

export { ThresholdDecryptionFailure, type ThresholdDecryption } from './request-client.ts';

interface PartialsState {
  /** The key the aggregate is under: the partials must be shares of it. */
  key: ThresholdPublicKey;
  c: bigint;
  /** Answers that passed the cheap checks, proofs checked or not. */
  received: PartialDecryption[];
  checked: Set<number>;
  verifying: boolean;
}

function partialsStep(publicKeys: readonly ThresholdPublicKey[]): CombineStep<PartialsState> {
  const keys = new Map(publicKeys.map((k) => [k.keyId, k]));
  return {
    label: 'threshold decryption client',
    begin(aggregate) {
      const key =
        keys.get(aggregate.keyId) ??
        fail('wrong-key-id', `aggregate under key ${aggregate.keyId}, custodians hold shares of ${[...keys.keys()].join(', ')}`);
      return { key, c: ciphertextFromBytes(key.paillier, aggregate.ciphertext), received: [], checked: new Set(), verifying: false };
    },
    custodians: (s) => s.key.custodians,
    need: (s) => `need ${s.key.threshold} valid partial decryptions, have ${s.received.length}`,
    take(s, index, answer, r) {
      if (answer.status === 'mask-sum')
        return r.reject({
          index,
          reason: 'wrong-message-type',
          message: `custodian ${index} answered a Paillier aggregate with a mask sum`,
        });
      try {
        const partial = partialFromJson(answer.partial);
        if (partial.index !== index) fail('partial-index-mismatch', `custodian ${index} sent a partial for index ${partial.index}`);
        checkPartialForm(s.key, partial);
        s.received.push(partial);
      } catch (e) {
        if (!(e instanceof MeterveilError)) throw e;
        r.reject({ index, reason: e.reason, message: e.message });
      }
    },
    /** Combines if T proofs are checked; otherwise checks one more proof, letting further answers in between. */
    progress(s, r, again) {
      const { key } = s;
      const checked = s.received.filter((x) => s.checked.has(x.index));
      if (checked.length >= key.threshold) {
        const chosen = checked.sort((a, b) => a.index - b.index).slice(0, key.threshold);
        return r.succeed({
          plaintext: combineVerified(key, chosen),
          used: chosen.map((x) => x.index),
          rejected: [...r.rejected],
          refused: [...r.refused],
        });
      }
      if (key.custodians - r.refused.length - r.rejected.length < key.threshold) return r.giveUp('too many custodians refused or failed');
      const next = s.received.find((x) => !s.checked.has(x.index));
      if (!next || s.verifying) return;
      s.verifying = true;
      setImmediate(() => {
        s.verifying = false;
        if (!r.open) return;
        try {
          verifyPartial(key, s.c, next);
          s.checked.add(next.index);
        } catch (e) {
          if (!(e instanceof MeterveilError)) throw e;
          s.received = s.received.filter((x) => x !== next);
          r.reject({ index: next.index, reason: e.reason, message: e.message });
        }
        again();
      });
    },
  };
}

export class ThresholdDecryptionClient extends CustodianRequestClient<PartialsState> {
  /** publicKeys: the key ring; each aggregate is decrypted with the key its key id names. */
  constructor(o: { client: MqttClient; publicKeys: readonly ThresholdPublicKey[]; timeoutMs?: number }) {
    super({ client: o.client, timeoutMs: o.timeoutMs, step: partialsStep(o.publicKeys) });
  }
}
