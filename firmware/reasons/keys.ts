/** Refusals of key announcements and of the meter's key schedule (firmware/keys/, firmware/meter/key-schedule.ts, docs/keys.md). */
export const keyReasons = {
  'malformed-announcement': 'a key announcement that is not the signed JSON object the meter expects',
  'bad-signature': 'a key announcement not signed by the provider’s signing key',
  'stale-announcement': 'a key announcement for a slot that has already begun',
  'wrong-previous-key': 'a key announcement that replaces another key than the one in use',
  'announcement-pending': 'a second key announcement while one is still waiting for its slot',
  'no-signing-key': 'a key announcement to a meter provisioned without a signing key: it keeps its key',
  'malformed-schedule': 'a stored key schedule that is not a short array with increasing effective slots',
  'schedule-mismatch': 'a stored key schedule written for another provisioned key',
  'cosignatures-below-threshold': 'a key announcement to a threshold deployment without valid cosignatures of at least t custodians',
  'unusable-key': 'an announced key too small for the meter or that cannot hold its packing',
} as const;
