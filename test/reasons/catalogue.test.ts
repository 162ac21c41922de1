import test from 'ava';
import { catalogues } from '../../host/reasons/index.ts';

const entries = catalogues.flatMap((c) =>
  Object.entries(c.reasons).map(([reason, description]) => ({ domain: c.domain, reason, description })),
);

test('every reason has a one-line description', (t) => {
  for (const { domain, reason, description } of entries) {
    t.true(description.trim().length > 0, `${domain}: ${reason} has no description`);
    t.false(/[\r\n]/.test(description), `${domain}: ${reason} has a description of more than one line`);
  }
});

test('every reason is defined in one catalogue only', (t) => {
  const home = new Map<string, string>();
  for (const { domain, reason } of entries) {
    t.is(home.get(reason), undefined, `${reason} is in ${home.get(reason)} and in ${domain}`);
    home.set(reason, domain);
  }
});

test('reasons are lowercase words joined by hyphens, as logs and counters show them', (t) => {
  for (const { domain, reason } of entries) t.regex(reason, /^[a-z0-9]+(-[a-z0-9]+)*$/, `${domain}: ${reason}`);
});

// Reasons are wire-, log- and database-visible: counters, stored refusals and operators' greps
// depend on them. New reasons are welcome; none of these may be renamed or dropped.
const PUBLISHED = [
  'already-decrypted',
  'announcement-pending',
  'bad-argument',
  'bad-config',
  'bad-config-file',
  'bad-credentials',
  'bad-custodian-index',
  'bad-integrator',
  'bad-key-size',
  'bad-limit',
  'bad-mac',
  'bad-modulus',
  'bad-outbox-capacity',
  'bad-packing',
  'bad-passphrase-or-tampered',
  'bad-pool-capacity',
  'bad-private-key',
  'bad-profile',
  'bad-random-request',
  'bad-random-source',
  'bad-range',
  'bad-secrets',
  'bad-share',
  'bad-signature',
  'bad-slots',
  'bad-threshold',
  'bad-time',
  'below-k',
  'broker-login-refused',
  'broker-unreachable',
  'cannot-listen',
  'cell-below-k',
  'ciphertext-length',
  'ciphertext-not-unit',
  'ciphertext-out-of-range',
  'client-id-not-allowed',
  'clock-went-back',
  'combination-failed',
  'config-unreadable',
  'custodians-refused',
  'device-config-too-large',
  'differencing',
  'duplicate',
  'duplicate-meter',
  'duplicate-partial',
  'empty-passphrase',
  'even-modulus',
  'feeder-complement-below-k',
  'forged-partial',
  'inconsistent-partials',
  'internal-error',
  'invalid-config',
  'invalid-partial-proof',
  'key-exists',
  'key-file-unreadable',
  'key-id-mismatch',
  'key-missing',
  'key-retired',
  'malformed',
  'malformed-announcement',
  'malformed-ciphertext',
  'malformed-device-config',
  'malformed-hex',
  'malformed-id',
  'malformed-key',
  'malformed-key-id',
  'malformed-password-hash',
  'malformed-schedule',
  'malformed-sealed-file',
  'meter-mismatch',
  'meter-running',
  'meter-would-refuse',
  'negative-exponent',
  'no-signing-key',
  'not-enough-partials',
  'not-in-outbox',
  'not-invertible',
  'not-threshold-key',
  'out-of-range',
  'output-exists',
  'overlapping-parts',
  'oversized',
  'packed-overflow',
  'packing-does-not-fit',
  'packing-mismatch',
  'partial-index-mismatch',
  'partial-key-mismatch',
  'partial-out-of-range',
  'passphrase-file-unreadable',
  'passphrase-required',
  'plaintext-out-of-range',
  'pool-empty',
  'publish-not-allowed',
  'range-too-large',
  'reading-out-of-range',
  'republished',
  'role-exited',
  'schedule-mismatch',
  'secrets-missing',
  'seq-exhausted',
  'slot-closed',
  'slot-in-future',
  'slot-not-open',
  'slot-too-old',
  'stale-announcement',
  'stopped',
  'storage-key-too-long',
  'storage-value-too-large',
  'store-failed',
  'store-mismatch',
  'store-unreadable',
  'store-version',
  'subscribe-not-allowed',
  'topic-mismatch',
  'trailing-bytes',
  'truncated',
  'unexpected-topic',
  'unknown-command',
  'unknown-contributor',
  'unknown-feeder',
  'unknown-group',
  'unknown-meter',
  'unknown-parameter',
  'unsupported-key',
  'unsupported-version',
  'unusable-key',
  'unverified-aggregate',
  'weak-passphrase',
  'wrong-key-id',
  'wrong-message-type',
  'wrong-meter',
  'wrong-previous-key',
  'wrong-reading-count',
  'xs-unavailable',
];

test('no published reason is renamed or dropped', (t) => {
  const known = new Set(entries.map((e) => e.reason));
  t.deepEqual(
    PUBLISHED.filter((r) => !known.has(r)),
    [],
  );
});
