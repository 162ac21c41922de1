/**
 * Checks that the host's deployment configuration (host/config/schema.ts) and the meter's
 * (schema.ts here) both make, written once so that the two cannot drift apart. A rule names the
 * field and explains what is wrong; the caller turns that into its own refusal (`bad-config` on
 * the host, `invalid-config` on the meter), so the same bad value reads the same on both sides.
 * Portable: runs in XS on the meter and in Node on the host.
 */
import { isValidId } from '../protocol/report.ts';

/** Refuses the configuration: `field` is where the problem is, `explanation` what it is. */
export type Refuse = (field: string, explanation: string) => never;

export const SECONDS_PER_DAY = 86_400;

/**
 * How long a meter waits for every group's acknowledgement before it sends a report again; the
 * host's default lateness covers one such resend, so a lost report still counts in its slot.
 */
export const DEFAULT_ACK_TIMEOUT_SECONDS = 60;

export function integerIn(value: unknown, field: string, min: number, max: number, refuse: Refuse): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    refuse(field, `must be an integer in ${min}..${max}`);
  }
  return value;
}

export function id(value: unknown, field: string, refuse: Refuse): string {
  if (!isValidId(value)) refuse(field, 'must be 1-64 characters of A-Z a-z 0-9 . _ -');
  return value;
}

/** Slots align with wall-clock boundaries only if their length divides a day. */
export function slotSeconds(value: unknown, refuse: Refuse): number {
  const seconds = integerIn(value, 'slotSeconds', 1, SECONDS_PER_DAY, refuse);
  if (SECONDS_PER_DAY % seconds !== 0) refuse('slotSeconds', 'must divide a day (86400) so that slots align with wall-clock boundaries');
  return seconds;
}
