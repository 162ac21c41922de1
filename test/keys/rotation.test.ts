/**
 * Key rotation announcements: signed on the host with node:crypto's Ed25519, verified by the
 * meters' portable verifier in Node and in the real XS engine.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { bytesToHex } from '../../firmware/bytes.ts';
import { verifyKeyAnnouncement } from '../../firmware/keys/announcement.ts';
import { publicKeyToJson } from '../../firmware/paillier/codec.ts';
import { testKeyPair } from '../helpers/test-keys.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { generateSigningKey, readSigningPublicFile, signKeyAnnouncement } from '../../host/keys/signing.ts';
import { bundle, startXsWorker, XsCommandError } from '../../host/xs/harness.ts';
import { reasonOf } from '../helpers/reference.ts';

const keys = [testKeyPair(0), testKeyPair(1), testKeyPair(2)];
const signer = generateSigningKey();
const run = promisify(execFile);
const bin = new URL('../../bin/meterveil.js', import.meta.url).pathname;

async function announcement(effectiveSlot = 1000) {
  const [oldPair, newPair] = keys;
  return {
    oldPair,
    newPair,
    signed: signKeyAnnouncement(signer, { publicKey: newPair.publicKey, previousKeyId: oldPair.publicKey.keyId, effectiveSlot }),
  };
}

test('a signed announcement verifies and names the new key and its first slot', async (t) => {
  const { oldPair, newPair, signed } = await announcement();
  const a = verifyKeyAnnouncement(JSON.stringify(signed), signer.publicKey, { currentKeyId: oldPair.publicKey.keyId, currentSlot: 999 });
  t.is(a.publicKey.n, newPair.publicKey.n);
  t.is(a.effectiveSlot, 1000);
  t.is(a.previousKeyId, oldPair.publicKey.keyId);
});

test('any change to a signed field, or another signer, is bad-signature', async (t) => {
  const { oldPair, signed } = await announcement();
  const [, , otherPair] = keys;
  const state = { currentKeyId: oldPair.publicKey.keyId, currentSlot: 0 };
  t.is(
    reasonOf(() => verifyKeyAnnouncement({ ...signed, effectiveSlot: 1001 }, signer.publicKey, state)),
    'bad-signature',
  );
  const swapped = { ...signed, keyId: otherPair.publicKey.keyId, publicKey: publicKeyToJson(otherPair.publicKey) };
  t.is(
    reasonOf(() => verifyKeyAnnouncement(swapped, signer.publicKey, state)),
    'bad-signature',
  );
  t.is(
    reasonOf(() => verifyKeyAnnouncement(signed, generateSigningKey().publicKey, state)),
    'bad-signature',
  );
  const flipped = (signed.signature as string).replace(/^./, (c) => (c === '0' ? '1' : '0'));
  t.is(
    reasonOf(() => verifyKeyAnnouncement({ ...signed, signature: flipped }, signer.publicKey, state)),
    'bad-signature',
  );
});

test('an announcement that does not follow the key in use, or whose slot has begun, is refused', async (t) => {
  const { oldPair, newPair, signed } = await announcement(1000);
  t.is(
    reasonOf(() => verifyKeyAnnouncement(signed, signer.publicKey, { currentKeyId: newPair.publicKey.keyId, currentSlot: 0 })),
    'wrong-previous-key',
  );
  t.is(
    reasonOf(() => verifyKeyAnnouncement(signed, signer.publicKey, { currentKeyId: oldPair.publicKey.keyId, currentSlot: 1000 })),
    'stale-announcement',
  );
  t.is(
    reasonOf(() =>
      verifyKeyAnnouncement({ ...signed, extra: 1 }, signer.publicKey, { currentKeyId: oldPair.publicKey.keyId, currentSlot: 0 }),
    ),
    'malformed-announcement',
  );
});

test('the verifier running in XS accepts the host-signed announcement and refuses a tampered one', async (t) => {
  const { oldPair, newPair, signed } = await announcement(5000);
  const worker = await startXsWorker({
    bundle: await bundle(new URL('./fixtures/verify-announcement-entry.ts', import.meta.url).pathname),
  });
  try {
    const command = {
      announcement: signed,
      signingKey: bytesToHex(signer.publicKey),
      currentKeyId: oldPair.publicKey.keyId,
      currentSlot: 4999,
    };
    t.deepEqual(await worker.issue(command), { keyId: newPair.publicKey.keyId, effectiveSlot: 5000, bits: 2048 });
    const error = await t.throwsAsync(worker.issue({ ...command, announcement: { ...signed, effectiveSlot: 4000 } }), {
      instanceOf: XsCommandError,
    });
    t.is((error as XsCommandError & { reason?: string }).reason, 'bad-signature');
  } finally {
    await worker.close();
  }
});

test('signing-keygen and announce-key on the command line, with a sealed signing key', async (t) => {
  const [oldPair, newPair] = keys;
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-rotation-'));
  writeKeyPair(join(dir, 'old'), oldPair);
  writeKeyPair(join(dir, 'new'), newPair);
  writeFileSync(join(dir, 'pass'), 'signing key passphrase\n', { mode: 0o600 });
  await run(process.execPath, [bin, 'signing-keygen', '--out', join(dir, 'signing'), '--passphrase-file', join(dir, 'pass')]);
  const { stdout } = await run(process.execPath, [
    bin,
    'announce-key',
    '--signing-key',
    join(dir, 'signing', 'signing.json'),
    '--passphrase-file',
    join(dir, 'pass'),
    '--previous',
    join(dir, 'old', 'public.json'),
    '--public',
    join(dir, 'new', 'public.json'),
    '--effective-slot',
    '77',
  ]);
  const signingPublic = readSigningPublicFile(join(dir, 'signing', 'signing-public.json'));
  const a = verifyKeyAnnouncement(stdout.trim(), signingPublic, { currentKeyId: oldPair.publicKey.keyId, currentSlot: 76 });
  t.is(a.publicKey.keyId, newPair.publicKey.keyId);
  t.is(a.effectiveSlot, 77);
});
