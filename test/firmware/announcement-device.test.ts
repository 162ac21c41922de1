/**
 * Key announcements verified in the real XS engine under what the device imposes: a heap that
 * does not grow (an ESP32 gives XS 4,928 slots in all) and built-ins frozen after the preload.
 * The Moddable lin build showed both: noble's base-point table (about 20,000 live slots) and a
 * refusal that surfaced as a TypeError from the frozen Error prototype instead of its reason.
 */
import test from 'ava';
import { bytesToHex } from '../../firmware/bytes.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { generateSigningKey, signKeyAnnouncement } from '../../host/keys/signing.ts';
import { bundle, startXsWorker, XsCommandError } from '../../host/xs/harness.ts';

const signer = generateSigningKey();

async function announcementCommand() {
  const [oldPair, newPair] = [testKeyPair(0), testKeyPair(1)];
  const signed = signKeyAnnouncement(signer, { publicKey: newPair.publicKey, previousKeyId: oldPair.publicKey.keyId, effectiveSlot: 5000 });
  return {
    newKeyId: newPair.publicKey.keyId,
    command: { announcement: signed, signingKey: bytesToHex(signer.publicKey), currentKeyId: oldPair.publicKey.keyId, currentSlot: 4999 },
  };
}

async function withWorker(run: (worker: Awaited<ReturnType<typeof startXsWorker>>) => Promise<void>) {
  const worker = await startXsWorker({
    bundle: await bundle(new URL('./fixtures/announcement-device-entry.ts', import.meta.url).pathname),
  });
  try {
    await run(worker);
  } finally {
    await worker.close();
  }
}

test('verifying an announcement in XS keeps no table alive: live slots grow by far less than an ESP32 has', async (t) => {
  const { newKeyId, command } = await announcementCommand();
  await withWorker(async (worker) => {
    const before = await worker.liveSlots();
    t.deepEqual(await worker.issue(command), { keyId: newKeyId, effectiveSlot: 5000 });
    const after = await worker.liveSlots();
    t.true(after - before < 500, `live slots grew by ${after - before}`);
  });
});

test('with the Error prototype frozen as on the device, a forged announcement is still refused as bad-signature', async (t) => {
  const { command } = await announcementCommand();
  await withWorker(async (worker) => {
    t.true(await worker.issue({ freeze: true }));
    const forged = { ...command.announcement, signature: bytesToHex(new Uint8Array(64).fill(7)) };
    const error = await t.throwsAsync(worker.issue({ ...command, announcement: forged }), { instanceOf: XsCommandError });
    t.is((error as XsCommandError & { reason?: string }).reason, 'bad-signature');
  });
});
