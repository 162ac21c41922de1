/** Threshold keys as custodians use them: real processes, a real 2048-bit key, sealed share files. */
import test from 'ava';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.ts';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(args, { env });

const root = mkdtempSync(join(tmpdir(), 'meterveil-threshold-cli-'));
const dir = join(root, 'keys');
const passphraseFile = join(root, 'passphrase');
writeFileSync(passphraseFile, 'custodians share this until they reseal\n', { mode: 0o600 });
const keygen = cli(['keygen', '--threshold', '2', '--custodians', '3', '--out', dir, '--passphrase-file', passphraseFile]);
const pub = join(dir, 'public.json');
const share = (i: number) => join(dir, `share-${i}.json`);

async function ciphertextOf(value: number): Promise<string> {
  await keygen;
  return (await cli(['encrypt', '--public', pub, '--value', String(value)])).stdout;
}

test('keygen --threshold writes the public key and sealed 0600 share files', async (t) => {
  const made = await keygen;
  t.is(made.code, 0, made.stderr);
  t.regex(made.stdout, /^key [0-9a-f]{16} \(2048 bits, 2 of 3 custodians, shares sealed\)/);
  t.regex(made.stderr, /safe prime 2 of 2 found/);
  for (const i of [1, 2, 3]) {
    t.is(statSync(share(i)).mode & 0o777, 0o600);
    t.is(JSON.parse(readFileSync(share(i), 'utf8')).scheme, 'meterveil-sealed');
  }
  t.deepEqual(Object.keys(JSON.parse(readFileSync(pub, 'utf8')).threshold), ['t', 'n', 'v', 'vi']);
});

test('two custodians decrypt; the passphrase comes from the file or METERVEIL_PASSPHRASE', async (t) => {
  const c = await ciphertextOf(31337);
  const p1 = await cli(['partial-decrypt', '--share', share(1), '--ciphertext', c, '--passphrase-file', passphraseFile]);
  const p3 = await cli(['partial-decrypt', '--share', share(3), '--ciphertext', c], {
    METERVEIL_PASSPHRASE: 'custodians share this until they reseal',
  });
  t.is(p1.code, 0, p1.stderr);
  t.is(p3.code, 0, p3.stderr);
  const p3File = join(root, 'p3.json');
  writeFileSync(p3File, p3.stdout);
  const combined = await cli(['combine', '--public', pub, '--ciphertext', c, p1.stdout, p3File]);
  t.is(combined.code, 0, combined.stderr);
  t.is(combined.stdout, '31337');
});

test('a sealed share without its passphrase is refused', async (t) => {
  const c = await ciphertextOf(1);
  const refused = await cli(['partial-decrypt', '--share', share(2), '--ciphertext', c], { METERVEIL_PASSPHRASE: '' });
  t.is(refused.code, 1);
  t.regex(refused.stderr, /passphrase-required/);
  const wrong = await cli(['partial-decrypt', '--share', share(2), '--ciphertext', c], { METERVEIL_PASSPHRASE: 'a wrong passphrase' });
  t.regex(wrong.stderr, /bad-passphrase-or-tampered/);
});

test('combine names a forged partial and fails clearly on fewer than T valid ones', async (t) => {
  const c = await ciphertextOf(500);
  const env = { METERVEIL_PASSPHRASE: 'custodians share this until they reseal' };
  const partials = await Promise.all([1, 2, 3].map((i) => cli(['partial-decrypt', '--share', share(i), '--ciphertext', c], env)));
  const forged = JSON.parse(partials[1].stdout);
  forged.value = JSON.parse(partials[0].stdout).value;
  const withSpare = await cli([
    'combine',
    '--public',
    pub,
    '--ciphertext',
    c,
    partials[0].stdout,
    JSON.stringify(forged),
    partials[2].stdout,
  ]);
  t.is(withSpare.code, 0, withSpare.stderr);
  t.is(withSpare.stdout, '500');
  t.regex(withSpare.stderr, /rejected partial from custodian 2: invalid-partial-proof/);

  const tooFew = await cli(['combine', '--public', pub, '--ciphertext', c, partials[0].stdout, JSON.stringify(forged)]);
  t.is(tooFew.code, 1);
  t.is(tooFew.stdout, '');
  t.regex(tooFew.stderr, /not-enough-partials: need 2 valid partial decryptions, have 1 \(rejected custodian 2: invalid-partial-proof\)/);
});
