/**
 * What a custodian checks of an aggregate's evidence (host/protocol/evidence.ts) before it will
 * give a partial decryption of that aggregate: each contributing report carries this custodian's
 * authenticator (under the key only it and the meter hold, so no aggregator can forge, relabel or
 * re-randomise a report), is for the aggregate's slot, key id and packing, the reports' meters are
 * exactly the aggregate's contributors, and the aggregate's ciphertext is the product of the
 * reports' ciphertexts (their sum modulo 2^W under the masked scheme), recomputed here.
 * Membership, k and the disclosure rule are checked on the
 * request (host/custodian/custodian.ts).
 */
import { equalBytes } from '../../firmware/bytes.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { openReportAsCustodian, peekReportMeterId } from '../../firmware/protocol/report.ts';
import type { Refusal } from '../policy/decryption-policy.ts';
import type { AggregateEvidence } from '../protocol/evidence.ts';
import { nodeHmacSha256 } from '../protocol/mac.ts';
import type { AggregationScheme } from '../scheme/aggregation.ts';

export interface EvidenceKeys {
  /** This custodian's index: which authenticator of each report is its own. */
  index: number;
  /** The key this custodian shares with a meter, or undefined for a meter it shares none with. */
  keyOf(meterId: string): Uint8Array | undefined;
}

function refusalOf(e: unknown): Refusal {
  if (e instanceof MeterveilError) return { reason: e.reason, detail: e.message };
  throw e;
}

/** Undefined when the evidence proves the aggregate; otherwise the first reason it does not. */
export function checkEvidence(
  { aggregate, reports }: AggregateEvidence,
  scheme: AggregationScheme,
  keys: EvidenceKeys,
): Refusal | undefined {
  const where = `${aggregate.groupId}/${aggregate.slot}`;
  if (reports.length !== aggregate.contributors.length) {
    return {
      reason: 'contributors-mismatch',
      detail: `${where} lists ${aggregate.contributors.length} contributors and comes with ${reports.length} report(s)`,
    };
  }
  const ciphertexts: bigint[] = [];
  for (let i = 0; i < reports.length; i++) {
    try {
      const meterId = peekReportMeterId(reports[i]);
      if (meterId !== aggregate.contributors[i]) {
        return {
          reason: 'contributors-mismatch',
          detail: `${where}: report ${i + 1} is from ${meterId}, the contributor list names ${aggregate.contributors[i]} there`,
        };
      }
      const custodianKey = keys.keyOf(meterId);
      if (!custodianKey) return { reason: 'bad-authenticator', detail: `${where}: custodian ${keys.index} shares no key with ${meterId}` };
      const report = openReportAsCustodian(reports[i], keys.index, custodianKey, nodeHmacSha256);
      if (report.slot !== aggregate.slot || report.keyId !== aggregate.keyId || report.packed !== aggregate.packed) {
        return {
          reason: 'report-mismatch',
          detail: `${where}: the report of ${meterId} is for slot ${report.slot}, key ${report.keyId}, packed ${report.packed}`,
        };
      }
      ciphertexts.push(scheme.parse(report.ciphertext));
    } catch (e) {
      const refusal = refusalOf(e);
      return { reason: refusal.reason, detail: `${where}: report ${i + 1}: ${refusal.detail}` };
    }
  }
  const product = scheme.toBytes(scheme.combineAll(ciphertexts));
  if (!equalBytes(product, aggregate.ciphertext)) {
    return { reason: 'product-mismatch', detail: `${where}: the ciphertext is not the product of its ${reports.length} reports` };
  }
  return undefined;
}
