/**
 * What each role may forget, and when (config `retention`, docs/pipeline.md "Retention"). A record
 * that guards a promise is kept as long as the promise needs it: the aggregator's duplicate and
 * replay rows follow the acceptance horizon (host/aggregator/retention.ts); the once-only records
 * of what was decrypted are kept for `horizonSeconds`, and aggregates of slots older than that are
 * refused by name (`beyond-horizon`, host/policy/horizon.ts) instead of being checked against a
 * record that is gone. Logs of refusals and alerts are kept for their own spans; the decrypted
 * series is the product and is kept, optionally folded into coarser slots once old.
 */
import { integerIn, type Refuse } from '../../firmware/config/rules.ts';
import { fail } from '../../firmware/errors.ts';
import { acceptanceHorizonSeconds, type SlotTiming } from '../protocol/slots.ts';

const DAY = 86_400;

export interface RetentionConfig {
  /**
   * The provider's and custodians' once-only records (decrypted parts, refused reservations, what
   * a custodian helped decrypt) are kept this long after their slot's end; an aggregate of an older
   * slot is refused `beyond-horizon`. It bounds how long a provider or custodian may be away and
   * still decrypt what waited for it.
   */
  horizonSeconds: number;
  /** Refused aggregates and requests (provider and custodians), by when they came. */
  refusalsSeconds: number;
  /** Alerts, by when they were raised. */
  alertsSeconds: number;
  /** Optional: decrypted slots older than `afterSeconds` are folded, `slots` at a time, into coarser rows. */
  downsample: { afterSeconds: number; slots: number } | null;
  /** How often each role collects in the background. */
  collectSeconds: number;
  /** Rows deleted per transaction: each batch is short, and ingest runs between batches. */
  batchRows: number;
}

export const RETENTION_DEFAULTS = {
  horizonSeconds: 7 * DAY,
  refusalsSeconds: 30 * DAY,
  alertsSeconds: 365 * DAY,
  collectSeconds: 60,
  batchRows: 500,
} as const;

/** The shortest horizon: a slot's aggregate must still be decryptable when it is published (its watermark) and delivered a slot later. */
export function minimumHorizonSeconds(t: SlotTiming & { skewSeconds: number }): number {
  return acceptanceHorizonSeconds(t) + t.skewSeconds + t.slotSeconds;
}

const YEARS_10 = 3650 * DAY;

export function parseRetention(value: unknown, timing: SlotTiming & { skewSeconds: number }, refuse: Refuse): RetentionConfig {
  if (value === undefined) value = {};
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('bad-config', 'retention must be an object');
  const r = value as Record<string, unknown>;
  const allowed = ['horizonSeconds', 'refusalsSeconds', 'alertsSeconds', 'downsample', 'collectSeconds', 'batchRows'];
  for (const key of Object.keys(r)) if (!allowed.includes(key)) fail('bad-config', `retention: unknown key "${key}"`);
  const minimum = minimumHorizonSeconds(timing);
  const horizonSeconds = integerIn(
    r.horizonSeconds ?? Math.max(RETENTION_DEFAULTS.horizonSeconds, minimum),
    'retention.horizonSeconds',
    1,
    YEARS_10,
    refuse,
  );
  if (horizonSeconds < minimum)
    refuse(
      'retention.horizonSeconds',
      `must be at least ${minimum} (the acceptance horizon plus skewSeconds and a slot): aggregates would be refused as soon as they are published`,
    );
  return {
    horizonSeconds,
    refusalsSeconds: integerIn(r.refusalsSeconds ?? RETENTION_DEFAULTS.refusalsSeconds, 'retention.refusalsSeconds', 1, YEARS_10, refuse),
    alertsSeconds: integerIn(r.alertsSeconds ?? RETENTION_DEFAULTS.alertsSeconds, 'retention.alertsSeconds', 1, YEARS_10, refuse),
    downsample: parseDownsample(r.downsample, horizonSeconds, timing.slotSeconds, refuse),
    collectSeconds: integerIn(r.collectSeconds ?? RETENTION_DEFAULTS.collectSeconds, 'retention.collectSeconds', 1, DAY, refuse),
    batchRows: integerIn(r.batchRows ?? RETENTION_DEFAULTS.batchRows, 'retention.batchRows', 1, 100_000, refuse),
  };
}

function parseDownsample(value: unknown, horizonSeconds: number, slotSeconds: number, refuse: Refuse): RetentionConfig['downsample'] {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) fail('bad-config', 'retention.downsample must be an object');
  const d = value as Record<string, unknown>;
  for (const key of Object.keys(d))
    if (key !== 'afterSeconds' && key !== 'slots') fail('bad-config', `retention.downsample: unknown key "${key}"`);
  const afterSeconds = integerIn(d.afterSeconds, 'retention.downsample.afterSeconds', 1, YEARS_10, refuse);
  // A series row is the record that its (group, slot) was decrypted: it may go only once the horizon refuses the slot.
  if (afterSeconds < horizonSeconds)
    refuse(
      'retention.downsample.afterSeconds',
      `must be at least retention.horizonSeconds (${horizonSeconds}): a decrypted slot is its own once-only record until then`,
    );
  const slots = integerIn(d.slots, 'retention.downsample.slots', 2, DAY, refuse);
  if (DAY % (slots * slotSeconds) !== 0)
    refuse(
      'retention.downsample.slots',
      `slots * slotSeconds (${slots * slotSeconds}) must divide a day, so that coarse slots align with wall-clock boundaries`,
    );
  return { afterSeconds, slots };
}
