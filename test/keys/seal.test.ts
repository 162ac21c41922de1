import test from 'ava';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testKeyPair } from '../helpers/test-keys.ts';
import { readPrivateKeyFile, writeKeyPair } from '../../host/paillier/key-files.ts';
import { describeSealed, seal, unseal } from '../../host/keys/seal.ts';
import { resolvePassphrase } from '../../host/keys/passphrase.ts';
import { generateThresholdKey } from '../../host/threshold/dealer.ts';
import { readKeyShareFile, writeThresholdKeySet } from '../../host/threshold/key-files.ts';
import { reasonOf } from '../helpers/reference.ts';

const PASSPHRASE = 'correct horse battery staple';
const document = JSON.stringify({ scheme: 'paillier', version: 1, keyId: '0011223344556677', n: 'abc', p: 'def', q: '123' });
const description = { content: 'paillier', keyId: '0011223344556677' };
// Test-only: the cheapest cost the format accepts (2^14), for the tests that are not about the
// cost; the first test checks that sealing uses the full default.
const FAST_TEST_SCRYPT = { N: 2 ** 14, r: 8, p: 1 };

test('sealing round trip: the document comes back, the file shows what it holds but not the key', (t) => {
  const sealed = seal(document, PASSPHRASE, description);
  t.false(sealed.includes('"def"'));
  t.false(sealed.includes(Buffer.from(document).toString('hex')));
  t.deepEqual(describeSealed(sealed), description);
  const obj = JSON.parse(sealed);
  t.deepEqual({ N: obj.kdf.N, r: obj.kdf.r, p: obj.kdf.p }, { N: 131072, r: 8, p: 1 });
  t.is(unseal(sealed, PASSPHRASE), document);
});

test('two seals of the same document share neither salt nor IV', (t) => {
  const a = JSON.parse(seal(document, PASSPHRASE, description, FAST_TEST_SCRYPT));
  const b = JSON.parse(seal(document, PASSPHRASE, description, FAST_TEST_SCRYPT));
  t.not(a.kdf.salt, b.kdf.salt);
  t.not(a.iv, b.iv);
  t.not(a.ciphertext, b.ciphertext);
});

test('a wrong passphrase is bad-passphrase-or-tampered', (t) => {
  const sealed = seal(document, PASSPHRASE, description, FAST_TEST_SCRYPT);
  t.is(
    reasonOf(() => unseal(sealed, 'correct horse battery stapler')),
    'bad-passphrase-or-tampered',
  );
});

test('a changed ciphertext, tag or header field is bad-passphrase-or-tampered', (t) => {
  const sealed = JSON.parse(seal(document, PASSPHRASE, { ...description, index: 2 }, FAST_TEST_SCRYPT));
  const flip = (hex: string) => (hex[0] === '0' ? '1' : '0') + hex.slice(1);
  const variants = [
    { ...sealed, ciphertext: flip(sealed.ciphertext) },
    { ...sealed, tag: flip(sealed.tag) },
    { ...sealed, keyId: 'ffffffffffffffff' },
    { ...sealed, index: 3 },
    { ...sealed, content: 'paillier-threshold-share' },
    { ...sealed, kdf: { ...sealed.kdf, salt: flip(sealed.kdf.salt) } },
  ];
  for (const variant of variants)
    t.is(
      reasonOf(() => unseal(variant, PASSPHRASE)),
      'bad-passphrase-or-tampered',
    );
});

test('malformed sealed files and weak passphrases are refused by name', (t) => {
  const sealed = JSON.parse(seal(document, PASSPHRASE, description, FAST_TEST_SCRYPT));
  t.is(
    reasonOf(() => unseal({ ...sealed, kdf: { ...sealed.kdf, N: 2 ** 30 } }, PASSPHRASE)),
    'malformed-sealed-file',
  );
  t.is(
    reasonOf(() => unseal({ ...sealed, extra: 1 }, PASSPHRASE)),
    'malformed-sealed-file',
  );
  t.is(
    reasonOf(() => unseal({ ...sealed, iv: 'zz' }, PASSPHRASE)),
    'malformed-sealed-file',
  );
  t.is(
    reasonOf(() => seal(document, 'short', description)),
    'weak-passphrase',
  );
});

test('a sealed private key: written by keygen, read with the passphrase, refused without it or with a wrong one', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-seal-'));
  const pair = testKeyPair();
  const { privatePath } = writeKeyPair(dir, pair, PASSPHRASE);
  t.is(statSync(privatePath).mode & 0o777, 0o600);
  t.false(readFileSync(privatePath, 'utf8').includes(pair.privateKey.p.toString(16)));
  const key = readPrivateKeyFile(privatePath, PASSPHRASE);
  t.is(key.p * key.q, pair.publicKey.n);
  const c = pair.publicKey.encrypt(99n, (n) => new Uint8Array(randomBytes(n)));
  t.is(key.decrypt(c), 99n);
  t.is(
    reasonOf(() => readPrivateKeyFile(privatePath)),
    'passphrase-required',
  );
  t.is(
    reasonOf(() => readPrivateKeyFile(privatePath, 'not the passphrase')),
    'bad-passphrase-or-tampered',
  );
});

test('sealed key shares are read with the passphrase; plain shares need none', async (t) => {
  const set = await generateThresholdKey({ bits: 512, threshold: 2, custodians: 3 });
  const sealedDir = mkdtempSync(join(tmpdir(), 'meterveil-seal-'));
  const plainDir = mkdtempSync(join(tmpdir(), 'meterveil-seal-'));
  const sealedPaths = writeThresholdKeySet(sealedDir, set, PASSPHRASE).sharePaths;
  const plainPaths = writeThresholdKeySet(plainDir, set).sharePaths;
  t.is(statSync(sealedPaths[1]).mode & 0o777, 0o600);
  t.is(readKeyShareFile(sealedPaths[1], PASSPHRASE).share, set.shares[1].share);
  t.is(readKeyShareFile(plainPaths[1]).share, set.shares[1].share);
  t.deepEqual(describeSealed(readFileSync(sealedPaths[2], 'utf8')), {
    content: 'paillier-threshold-share',
    keyId: set.publicKey.keyId,
    index: 3,
  });
  t.is(
    reasonOf(() => readKeyShareFile(sealedPaths[0])),
    'passphrase-required',
  );
  t.is(
    reasonOf(() => writeThresholdKeySet(sealedDir, set, PASSPHRASE)),
    'key-exists',
  );
});

test('the passphrase comes from --passphrase-file (first line) before METERVEIL_PASSPHRASE', (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'meterveil-seal-')), 'pass');
  writeFileSync(file, `${PASSPHRASE}\nignored\n`, { mode: 0o600 });
  t.is(resolvePassphrase({ passphraseFile: file }, { METERVEIL_PASSPHRASE: 'from env' }), PASSPHRASE);
  t.is(resolvePassphrase({}, { METERVEIL_PASSPHRASE: 'from env' }), 'from env');
  t.is(resolvePassphrase({}, {}), undefined);
  t.is(
    reasonOf(() => resolvePassphrase({ passphraseFile: file + '-missing' })),
    'passphrase-file-unreadable',
  );
});
