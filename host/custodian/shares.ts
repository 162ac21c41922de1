/**
 * The shares one custodian holds: at least one, one per key id, all for the same custodian index
 * (the broker user custodian.<i> answers for all of them), all of the same t of n.
 */
import { fail } from '../../firmware/errors.ts';
import type { KeyShare } from '../threshold/threshold-key.ts';

export function checkedShares(shares: readonly KeyShare[]): Map<string, KeyShare> {
  if (shares.length === 0) fail('bad-share', 'a custodian needs at least one key share');
  const [first] = shares;
  const byKey = new Map<string, KeyShare>();
  for (const share of shares) {
    const key = share.publicKey;
    if (byKey.has(key.keyId)) fail('bad-share', `two shares of key ${key.keyId}`);
    if (share.index !== first.index)
      fail('bad-share', `the shares are for custodians ${first.index} and ${share.index}; one custodian holds one index`);
    if (key.threshold !== first.publicKey.threshold || key.custodians !== first.publicKey.custodians) {
      fail(
        'bad-share',
        `key ${key.keyId} is ${key.threshold} of ${key.custodians}, key ${first.publicKey.keyId} ${first.publicKey.threshold} of ${first.publicKey.custodians}`,
      );
    }
    byKey.set(key.keyId, share);
  }
  return byKey;
}
