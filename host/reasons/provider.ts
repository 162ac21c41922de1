/**
 * What the provider and the custodians refuse to decrypt, and what the provider counts
 * (host/provider/, host/custodian/custodian.ts, docs/pipeline.md "Provider", docs/keys.md).
 * Feeder readings refused by a wire reason are counted as `feeder-<reason>`.
 */
export const providerReasons = {
  'topic-mismatch': 'an aggregate or feeder reading whose group or feeder is not the one its topic names',
  'unknown-contributor': 'an aggregate with a contributor that is not a member of its group',
  differencing: 'an aggregate that, with those already decrypted for its slot, would expose a single meter or fewer than k',
  'cell-below-k': 'a release after which the slot’s known totals split off a cell of meters smaller than its largest k (docs/privacy.md)',
  'feeder-complement-below-k':
    'a release whose counted contributors leave out fewer than k of a group’s members: its feeder gives them away',
  'already-decrypted': 'an aggregate for a (group, slot, key id) that was decrypted before with different content',
  republished: 'an identical republication of an aggregate already decrypted (counted, not a refusal)',
  'overlapping-parts': 'an aggregate that shares a contributor with another part of the same (group, slot)',
  'unverified-aggregate':
    'an aggregate that is not the one the custodian checked, report by report, from its group’s aggregator (or whose reports never arrived)',
  'forged-partial': 'custodians whose partial decryptions failed their proofs; a total stored for the slot was combined without them',
  'custodians-refused': 'every custodian answered and too many refused or sent invalid partials; final for the slot',
  'out-of-range-total':
    'a decrypted total that honest readings cannot give (a slot above count times the largest reading, or past the packing: a negative or overflowing reading); the slot counts as decrypted and an alert is raised',
  'unknown-feeder': 'a feeder id that no group names',
  'beyond-horizon':
    'an aggregate or request for a slot that ended longer ago than retention.horizonSeconds: the once-only record of what was decrypted for it is not kept, so nothing of it is decrypted',
  'stale-status':
    'a meter health status older, by the meter’s clock, than the one the provider holds (a replay); counted as meter-status-stale-status',
} as const;
