/** Threshold decryption: key shares, partial decryptions and their combination (host/threshold/, host/custodian/, docs/keys.md). */
export const thresholdReasons = {
  'disjoint-quorums': 'a threshold t of n with 2t <= n, refused unless undetectable differencing is explicitly allowed',
  'bad-threshold': 'custodians or threshold out of range (threshold from 1 to the number of custodians)',
  'bad-custodian-index': 'a custodian index outside 1..the number of custodians',
  'not-threshold-key': 'a single-key public key where a threshold public key is needed',
  'bad-share': 'a custodian’s key shares that are missing, twice for one key, or for different custodians',
  'partial-key-mismatch': 'a partial decryption for another key than the aggregate’s',
  'partial-out-of-range': 'a partial decryption outside Z_{n²}',
  'partial-index-mismatch': 'a custodian that sent a partial decryption for another custodian’s index',
  'invalid-partial-proof': 'a partial decryption whose proof does not match the custodian’s verification key',
  'duplicate-partial': 'two partial decryptions from one custodian for one request',
  'inconsistent-partials': 'partial decryptions that do not combine to one plaintext',
  'combination-failed': 'a combined value that is not of the form 1 + kn',
  'not-enough-partials': 'fewer valid partial decryptions than the threshold, after refusals or the timeout',
  'not-a-shared-key': 'a key announcement a custodian was asked to cosign for a key it holds no share of',
  stopped: 'a decryption request pending when its client was stopped',
} as const;
