/**
 * A custodian's cosignature of a key announcement (firmware/keys/announcement.ts): given only for
 * a key this custodian holds a share of, so that in a threshold deployment no key reaches the
 * meters unless at least t custodians hold shares of it. The provider cannot then switch the
 * meters to an ordinary key whose factors it knows, nor announce the custodians' n with a
 * randomness base hs of its own (hs = 1 would leave every reading in the clear).
 */
import { sign } from 'node:crypto';
import { fail } from '../../firmware/errors.ts';
import { announcementMessage, announcementToJson, parseAnnouncement } from '../../firmware/keys/announcement.ts';
import type { SigningKey } from '../keys/signing.ts';
import type { KeyShare } from '../threshold/threshold-key.ts';

/** The announcement with this custodian's cosignature added (an earlier one of its own replaced). */
export function cosignKeyAnnouncement(key: SigningKey, share: KeyShare, input: unknown): Record<string, unknown> {
  const { announcement, signature, cosignatures } = parseAnnouncement(input);
  if (announcement.publicKey.keyId !== share.publicKey.keyId || !announcement.publicKey.sameKeyAs(share.publicKey.paillier))
    fail(
      'not-a-shared-key',
      `custodian ${share.index} holds a share of key ${share.publicKey.keyId}, not of the announced key ${announcement.publicKey.keyId} (its n, hs or exponentBits differ)`,
    );
  const mine = { index: share.index, signature: new Uint8Array(sign(null, announcementMessage(announcement), key.privateKey)) };
  const others = cosignatures.filter((c) => c.index !== share.index);
  return announcementToJson(
    announcement,
    signature,
    [...others, mine].sort((a, b) => a.index - b.index),
  );
}
