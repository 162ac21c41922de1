/**
 * The status an aggregator publishes (retained) on its group's status topic every 2 s: how many
 * reports it accepted, which slots are open, and its counts by reason of refused reports and of
 * suppressed slots. Counts only, nothing per meter. The provider shows it in its API; it checks
 * every field, since anyone holding the aggregator's login could publish there.
 */
import { fail } from '../../firmware/errors.ts';
import { isValidId } from '../../firmware/protocol/report.ts';
import { exactKeys, parseJsonMessage } from './json-message.ts';

export const MAX_STATUS_BYTES = 16_384;
const MAX_OPEN_SLOTS = 1000;
const MAX_REASONS = 100;

export interface AggregatorStatus {
  groupId: string;
  accepted: number;
  openSlots: number[];
  rejections: Record<string, number>;
  suppressed: Record<string, number>;
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function counts(value: unknown, what: string): Record<string, number> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('malformed', `${what} must be an object`);
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_REASONS) fail('malformed', `${what} has more than ${MAX_REASONS} reasons`);
  for (const [reason, n] of entries) {
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(reason) || reason.length > 64) fail('malformed', `${what}: "${reason}" is not a reason`);
    if (!isCount(n)) fail('malformed', `${what}.${reason} must be a non-negative integer`);
  }
  return Object.fromEntries(entries) as Record<string, number>;
}

export function decodeAggregatorStatus(payload: Uint8Array): AggregatorStatus {
  const o = parseJsonMessage(payload, MAX_STATUS_BYTES, 'aggregator status');
  exactKeys(o, ['groupId', 'accepted', 'openSlots', 'rejections', 'suppressed'], 'aggregator status');
  if (!isValidId(o.groupId)) fail('malformed-id', 'aggregator status: groupId is not an id');
  if (!isCount(o.accepted)) fail('malformed', 'aggregator status: accepted must be a non-negative integer');
  if (!Array.isArray(o.openSlots) || o.openSlots.length > MAX_OPEN_SLOTS || !o.openSlots.every(isCount))
    fail('malformed', `aggregator status: openSlots must be at most ${MAX_OPEN_SLOTS} slot numbers`);
  return {
    groupId: o.groupId,
    accepted: o.accepted,
    openSlots: o.openSlots as number[],
    rejections: counts(o.rejections, 'aggregator status: rejections'),
    suppressed: counts(o.suppressed, 'aggregator status: suppressed'),
  };
}
