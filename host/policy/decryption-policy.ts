/**
 * What the provider decrypts, and what a custodian helps decrypt: both apply these checks. An
 * aggregate is refused (stored with the reason, never decrypted) if it names contributors outside
 * its group, has fewer than k of them, repeats a (group, slot) already decrypted, or would,
 * together with the aggregates already decrypted for the same slot, expose one meter's reading
 * (differencing: e.g. two groups whose contributor sets differ by one meter) or a combination of
 * fewer than k meters visible in the reduced basis.
 */
import type { Reason } from '../../firmware/errors.ts';
import type { GroupConfig } from '../config/schema.ts';
import type { Aggregate } from '../protocol/aggregate.ts';
import { analyseSpan } from './span.ts';

export interface Refusal {
  reason: Reason;
  detail: string;
}

export function checkMembership(aggregate: Aggregate, group: GroupConfig): Refusal | undefined {
  const members = new Set(group.members);
  const outsider = aggregate.contributors.find((m) => !members.has(m));
  if (outsider) return { reason: 'unknown-contributor', detail: `${outsider} is not a member of ${group.id}` };
  if (aggregate.count < group.k) return { reason: 'below-k', detail: `${aggregate.count} contributors, k = ${group.k}` };
  return undefined;
}

/** decryptedSets: contributor sets of every aggregate already decrypted for this slot, all groups. */
export function checkDifferencing(
  contributors: readonly string[],
  decryptedSets: readonly (readonly string[])[],
  k: number,
): Refusal | undefined {
  if (decryptedSets.length === 0) return undefined;
  const span = analyseSpan([...decryptedSets, contributors]);
  if (span.exposedMeters.length > 0) {
    return {
      reason: 'differencing',
      detail: `with the aggregates already decrypted for this slot it would expose ${span.exposedMeters.length} meter(s)`,
    };
  }
  if (span.smallestSupport < k) {
    return {
      reason: 'differencing',
      detail: `with the aggregates already decrypted for this slot it would expose a combination of ${span.smallestSupport} meters (k = ${k})`,
    };
  }
  return undefined;
}
