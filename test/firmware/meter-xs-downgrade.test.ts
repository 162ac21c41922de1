/**
 * Attack: the provider of a threshold deployment downgrades it. It alone signs key announcements,
 * so it announces an ordinary Paillier key whose factors it holds; a meter that adopted it would
 * encrypt every later reading for the provider alone. The firmware runs in XS against a real
 * broker, provisioned with the custodians' signing keys and t = 2 of 3: it refuses the provider's
 * announcement and one cosigned by a single custodian (`cosignatures-below-threshold`), keeps its
 * key, and adopts the threshold key that two custodians, each holding a share of it, cosigned.
 */
import test from 'ava';
import mqtt from 'mqtt';
import { bytesToHex } from '../../firmware/bytes.ts';
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { cosignKeyAnnouncement } from '../../host/custodian/cosign.ts';
import { modPow } from '../../host/paillier/openssl-pow.ts';
import { generateSigningKey, signKeyAnnouncement } from '../../host/keys/signing.ts';
import { testKeyPair, testThresholdKeySets } from '../helpers/test-keys.ts';
import { startXsMeter } from './helpers/fleet.ts';

const START = Date.UTC(2026, 4, 11, 8, 0, 0);
const SLOT_MS = 60_000;
const FIRST = START / SLOT_MS;

test('a meter of a threshold deployment refuses a key the provider alone (or one custodian with it) announces, and adopts one t custodians cosigned', async (t) => {
  const [current, next] = testThresholdKeySets(2, 3, 2);
  const providerOwn = testKeyPair(1);
  const provider = generateSigningKey();
  const custodians = [generateSigningKey(), generateSigningKey(), generateSigningKey()];
  const { broker, config, fleet } = await startXsMeter(t, current.publicKey.paillier, START, {
    signingKey: bytesToHex(provider.publicKey),
    cosigners: { threshold: 2, keys: custodians.map((c) => bytesToHex(c.publicKey)) },
  });
  const publisher = await mqtt.connectAsync(broker.url, { clientId: 'provider' });
  t.teardown(() => publisher.endAsync(true));
  const id = config.meterId;
  const announce = async (message: unknown, delivered: number) => {
    await publisher.publishAsync(KEY_ANNOUNCEMENT_TOPIC, JSON.stringify(message), { qos: 1, retain: true });
    for (const deadline = Date.now() + 10_000; fleet.messagesDelivered(id) < delivered;) {
      if (Date.now() > deadline) throw new Error('announcement not delivered');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await fleet.settle();
  };

  const downgrade = signKeyAnnouncement(provider, {
    publicKey: providerOwn.publicKey,
    previousKeyId: current.publicKey.keyId,
    effectiveSlot: FIRST + 3,
  });
  await announce(downgrade, 1);
  // A custodian cosigns only a key it holds a share of: the provider's own key gets none.
  t.throws(() => cosignKeyAnnouncement(custodians[0], current.shares[0], downgrade), { message: /not-a-shared-key/ });

  // Nor the custodians' own n with a randomness base of the provider's choosing (one whose
  // discrete logarithm it knows would strip the randomness off every reading).
  const n = next.publicKey.paillier.n;
  const ownBase = new PaillierPublicKey(n, { shortExponent: { hs: modPow(n - 4n, n, n * n), exponentBits: 1024 } });
  const forgedBase = signKeyAnnouncement(provider, {
    publicKey: ownBase,
    previousKeyId: current.publicKey.keyId,
    effectiveSlot: FIRST + 3,
  });
  t.throws(() => cosignKeyAnnouncement(custodians[0], next.shares[0], forgedBase), { message: /not-a-shared-key/ });

  const genuine = signKeyAnnouncement(provider, {
    publicKey: next.publicKey.paillier,
    previousKeyId: current.publicKey.keyId,
    effectiveSlot: FIRST + 3,
  });
  const once = cosignKeyAnnouncement(custodians[0], next.shares[0], genuine);
  await announce(once, 2);
  const refused = await fleet.stats(id);
  t.deepEqual(refused.announcementsRefused, { 'cosignatures-below-threshold': 2 });
  t.is(refused.nextKeyId, null, 'no key adopted');
  t.is(refused.keyId, current.publicKey.keyId);

  // One custodian's signature twice is still one custodian.
  const twice = { ...once, cosignatures: [...(once.cosignatures as object[]), { ...(once.cosignatures as object[])[0], index: 2 }] };
  await announce(twice, 3);
  t.deepEqual((await fleet.stats(id)).announcementsRefused, { 'cosignatures-below-threshold': 3 });

  await announce(cosignKeyAnnouncement(custodians[2], next.shares[2], once), 4);
  const adopted = await fleet.stats(id);
  t.is(adopted.announcementsAccepted, 1);
  t.is(adopted.nextKeyId, next.publicKey.keyId);
  t.is(adopted.nextKeySlot, FIRST + 3);
});
