/**
 * The provider's side of a verifiable masked deployment: the custodian request client
 * (request-client.ts) asking every custodian for the sum of its masks over an aggregate's
 * contributors, with the combine step that subtracts all n of them. Each custodian answers only
 * for an aggregate it verified report by report and that passes its own policy
 * (host/custodian/custodian.ts), so one custodian that refuses, or stays silent, stops the
 * release: n of n (docs/security.md). The answers go over the same topics and messages as
 * Paillier's partial decryptions (host/decryption/messages.ts, status "mask-sum").
 */
import type { MqttClient } from 'mqtt';
import { fail } from '../../firmware/errors.ts';
import type { MaskedParams } from '../../firmware/masked/params.ts';
import { maskedScheme } from '../scheme/aggregation.ts';
import { unmask } from '../scheme/unmask.ts';
import { CustodianRequestClient, type CombineStep } from './request-client.ts';

interface MaskSumsState {
  /** The aggregate's sum of masked values. */
  sum: bigint;
  sums: Map<number, bigint>;
}

function maskSumsStep(keyIds: readonly string[], custodians: number, params: MaskedParams): CombineStep<MaskSumsState> {
  const schemes = new Map(keyIds.map((id) => [id, maskedScheme(id, params)]));
  return {
    label: 'masked decryption client',
    begin(aggregate) {
      const scheme =
        schemes.get(aggregate.keyId) ?? fail('wrong-key-id', `aggregate under key ${aggregate.keyId}, not one of ${keyIds.join(', ')}`);
      return { sum: scheme.parse(aggregate.ciphertext), sums: new Map() };
    },
    custodians: () => custodians,
    need: (s) => `need the mask sums of all ${custodians} custodians, have ${s.sums.size}`,
    take(s, index, answer, r) {
      if (answer.status === 'partial')
        return r.reject({
          index,
          reason: 'wrong-message-type',
          message: `custodian ${index} answered a masked aggregate with a partial decryption`,
        });
      s.sums.set(index, BigInt('0x' + answer.maskSum));
    },
    progress(s, r) {
      // n of n: one custodian refusing is final for this aggregate.
      if (r.refused.length + r.rejected.length > 0) return r.giveUp('a custodian refused');
      if (s.sums.size < custodians) return;
      const used = [...s.sums.keys()].sort((a, b) => a - b);
      r.succeed({ plaintext: unmask(s.sum, [...s.sums.values()], params), used, rejected: [], refused: [] });
    },
  };
}

export class MaskedCustodiansClient extends CustodianRequestClient<MaskSumsState> {
  constructor(o: { client: MqttClient; keyIds: readonly string[]; custodians: number; params: MaskedParams; timeoutMs?: number }) {
    super({ client: o.client, timeoutMs: o.timeoutMs, step: maskSumsStep(o.keyIds, o.custodians, o.params) });
  }
}
