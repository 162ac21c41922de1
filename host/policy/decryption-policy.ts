/**
 * What the provider decrypts, and what a custodian helps decrypt: both apply these checks. An
 * aggregate is refused (stored with the reason, never decrypted) if it names contributors outside
 * its group, has fewer than k of them, repeats a (group, slot) already decrypted, or would,
 * together with the totals already known for the same slot (every group's feeder reading, the
 * aggregates decrypted or waiting, each part on its own), leave a cell of meters smaller than its
 * k (host/policy/disclosure.ts).
 */
import type { Reason } from '../../firmware/errors.ts';
import type { GroupConfig } from '../config/schema.ts';
import type { Aggregate } from '../protocol/aggregate.ts';

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
