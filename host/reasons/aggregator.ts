/**
 * What the aggregator refuses or suppresses (host/aggregator/, docs/pipeline.md "Aggregator"),
 * besides the wire decoder's reasons. Counted in its `rejections` and on its status topic.
 */
export const aggregatorReasons = {
  'meter-mismatch': 'a report whose meter id is not the one its topic names',
  'wrong-key-id': 'a report, aggregate or request under a key id that is not in the party’s key ring',
  'key-not-endorsed':
    'a report under a key no announcement cosigned by t custodians has named yet (threshold deployments; not acknowledged, the meter resends)',
  'packing-mismatch': 'a report or aggregate packed with another number of readings than the config’s',
  duplicate: 'a second report from one meter for one slot (acknowledged `duplicate`, not stored twice)',
  'slot-in-future': 'a report for a slot that starts later than the aggregator’s clock plus skewSeconds',
  'slot-too-old':
    'a report that arrives after its slot’s acceptance horizon (outageSeconds after its end), even if the aggregator never closed the slot; acknowledged refused, the meter lets it go',
  'slot-closed':
    'a report for a slot (and key) that the aggregator already closed (at its watermark, or with every member in); acknowledged refused, the meter lets it go',
  'store-failed': 'reports that could not be committed to SQLite; not acknowledged, so the meters resend them',
  'slot-not-open': 'an attempt to close a slot that is not open',
  'key-retired': 'an open product whose key was removed from keys.publicKeys before the slot closed (suppressed)',
  'below-k': 'fewer contributors than the group’s k: suppressed by the aggregator, refused by the provider and custodians',
  'members-missing':
    'a slot still missing 1..k-1 of its group’s members at its acceptance horizon (outageSeconds after its end; it waits for them past its watermark): the feeder reading minus the total would be their sum, so it is suppressed (the provider would refuse it as feeder-complement-below-k)',
  'authenticator-count':
    'a report (threshold mode) that does not carry one authenticator per custodian; refused, since the custodians would refuse its aggregate',
  'evidence-oversized':
    'an aggregate whose contributing reports do not fit one message for the custodians (threshold mode; they refuse it unverified)',
  'ciphertext-not-unit': 'a slot’s product that is not a unit modulo n², so some report was not a valid ciphertext (suppressed)',
} as const;
