/**
 * Attack: the provider of a threshold deployment downgrades it at the aggregators. It announces
 * an ordinary key whose private key it holds, and gets it into the aggregators' accepted keys
 * (keys.publicKeys). A real aggregator on the embedded broker, configured with the custodians'
 * signing keys (provider.decryption.cosigners, t = 2 of 3), refuses the announcement by name and
 * counts no report under that key; reports under the provisioned threshold key count, and so do
 * reports under a second threshold key once two custodians holding shares of it cosigned it.
 */
import test from 'ava';
import { join } from 'node:path';
import { runAggregator } from '../../host/aggregator/run.ts';
import { cosignKeyAnnouncement } from '../../host/custodian/cosign.ts';
import { publishKeyAnnouncement } from '../../host/keys/publish-announcement.ts';
import { generateSigningKey, signKeyAnnouncement, writeSigningKey } from '../../host/keys/signing.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { slotAt } from '../../host/protocol/slots.ts';
import { testKeyPair, testThresholdKeySets } from '../helpers/test-keys.ts';
import { writeThresholdKeySet } from '../../host/threshold/key-files.ts';
import { reportTopic } from '../../firmware/protocol/report.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';
import { until } from '../helpers/poll.ts';

test('an aggregator of a threshold deployment counts no report under a key the provider announced alone', async (t) => {
  const [current, next] = testThresholdKeySets(2, 3, 2);
  const providerOwn = testKeyPair(1);
  const cosignerFiles = [1, 2, 3].map((i) => `keys/custodian-${i}/signing-public.json`);
  const ring = ['keys/public.json', 'keys/own/public.json', 'keys/next/public.json'];
  const d = await deploy({
    groups: [{ id: 'street', members: ids('m', 3), feeder: 'feeder-street', k: 2 }],
    threshold: { set: current, timeoutMs: 5000, retryMs: 1000 },
    extra: {
      latenessSeconds: 4,
      keys: { publicKeys: ring },
      provider: { decryption: { mode: 'threshold', custodians: 3, threshold: 2, cosigners: cosignerFiles } },
    },
  });
  t.teardown(() => d.cleanup());
  writeKeyPair(join(d.config.dataDir, 'keys/own'), providerOwn);
  writeThresholdKeySet(join(d.config.dataDir, 'keys/next'), next);
  const custodians = [1, 2, 3].map((i) => {
    const key = generateSigningKey();
    writeSigningKey(join(d.config.dataDir, `keys/custodian-${i}`), key);
    return key;
  });
  const provider = generateSigningKey();
  const running = await runAggregator(d.config, 'street');
  t.teardown(() => running.stop());
  const { aggregator } = running;

  const downgrade = signKeyAnnouncement(provider, {
    publicKey: providerOwn.publicKey,
    previousKeyId: current.publicKey.keyId,
    effectiveSlot: slotAt(Date.now(), d.config.slotSeconds) + 1,
  });
  await publishKeyAnnouncement(d.config, downgrade);
  await until(() => aggregator.rejections.toJSON()['cosignatures-below-threshold'] === 1, 'the announcement refused', 10_000);

  const [m1, m2, m3] = await Promise.all([
    d.meter('m1', ['street']),
    d.meter('m2', ['street'], { publicKey: providerOwn.publicKey }),
    d.meter('m3', ['street'], { publicKey: next.publicKey.paillier }),
  ]);
  const slot = slotAt(Date.now(), d.config.slotSeconds);
  m2.publishRaw(reportTopic('street', 'm2'), m2.encode(slot, [2875n]));
  await until(() => (aggregator.rejections.toJSON()['key-not-endorsed'] ?? 0) >= 1, "the provider's key refused", 10_000);
  m3.publishRaw(reportTopic('street', 'm3'), m3.encode(slot, [5n]));
  await until(() => aggregator.rejections.toJSON()['key-not-endorsed'] >= 2, 'the unannounced threshold key refused', 10_000);
  await m1.report(slot, [7n]);
  t.is(aggregator.accepted, 1, 'only the report under the provisioned key counts');
  t.false(
    m2.acks.some((a) => a.slot === slot),
    'no acknowledgement: the meter would keep the report, never lose it',
  );

  const genuine = signKeyAnnouncement(provider, {
    publicKey: next.publicKey.paillier,
    previousKeyId: current.publicKey.keyId,
    effectiveSlot: slot + 1,
  });
  await publishKeyAnnouncement(d.config, cosignKeyAnnouncement(custodians[0], next.shares[0], genuine));
  await until(() => aggregator.rejections.toJSON()['cosignatures-below-threshold'] === 2, 'one cosignature refused', 10_000);
  const cosigned = cosignKeyAnnouncement(custodians[2], next.shares[2], cosignKeyAnnouncement(custodians[0], next.shares[0], genuine));
  await publishKeyAnnouncement(d.config, cosigned);
  const later = slotAt(Date.now(), d.config.slotSeconds);
  await until(
    () => {
      m3.publishRaw(reportTopic('street', 'm3'), m3.encode(later, [5n], { seq: 50 }));
      return aggregator.accepted === 2;
    },
    'a report under the cosigned key counted',
    10_000,
  );
  t.is(aggregator.rejections.toJSON()['cosignatures-below-threshold'], 2);
});
