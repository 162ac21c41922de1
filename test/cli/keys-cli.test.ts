/** The key commands as a user runs them: real processes, real 2048-bit keys, real files. */
import test from 'ava';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCli } from '../helpers/cli.ts';

const cli = (...args: string[]) => runCli(args);

const dir = join(mkdtempSync(join(tmpdir(), 'meterveil-cli-')), 'keys');
const keygen = cli('keygen', '--out', dir);
const pub = join(dir, 'public.json');
const priv = join(dir, 'private.json');

test('keygen, encrypt, add and decrypt round-trip through the command line', async (t) => {
  const made = await keygen;
  t.is(made.code, 0, made.stderr);
  t.regex(made.stdout, /^key [0-9a-f]{16} \(2048 bits, short-exponent\)/);
  t.is(statSync(priv).mode & 0o777, 0o600);
  const publicJson = JSON.parse(readFileSync(pub, 'utf8'));
  t.is(publicJson.version, 2);
  t.is(publicJson.exponentBits, 1024);
  t.regex(publicJson.hs, /^[1-9a-f][0-9a-f]*$/);
  const a = await cli('encrypt', '--public', pub, '--value', '1500');
  const b = await cli('encrypt', '--public', pub, '--value', '27');
  t.regex(a.stdout, /^[0-9a-f]{1024}$/);
  t.not(a.stdout, (await cli('encrypt', '--public', pub, '--value', '1500')).stdout, 'fresh randomness each time');
  const sum = await cli('add', '--public', pub, a.stdout, b.stdout);
  t.is(sum.code, 0, sum.stderr);
  t.is((await cli('decrypt', '--private', priv, '--ciphertext', sum.stdout)).stdout, '1527');
});

test('keygen --classic writes a version-1 key (classic r^n) that encrypts and decrypts', async (t) => {
  const classicDir = join(dirname(dir), 'classic');
  const made = await cli('keygen', '--classic', '--out', classicDir);
  t.is(made.code, 0, made.stderr);
  t.regex(made.stdout, /\(2048 bits, classic r\^n\)/);
  const publicJson = JSON.parse(readFileSync(join(classicDir, 'public.json'), 'utf8'));
  t.deepEqual(Object.keys(publicJson), ['scheme', 'version', 'keyId', 'n']);
  t.is(publicJson.version, 1);
  const c = await cli('encrypt', '--public', join(classicDir, 'public.json'), '--value', '4242');
  t.is((await cli('decrypt', '--private', join(classicDir, 'private.json'), '--ciphertext', c.stdout)).stdout, '4242');
});

test('bad input fails with a one-line reason and a non-zero exit code', async (t) => {
  await keygen;
  const cases: [string[], RegExp][] = [
    [['keygen', '--out', dir], /key-exists/],
    [['keygen', '--bits', '1024', '--out', join(dir, 'other')], /--bits must be 2048 or 3072/],
    [['encrypt', '--public', pub, '--value', '-5'], /bad-argument/],
    [['encrypt', '--public', pub, '--value', '1e3'], /bad-argument/],
    [['encrypt', '--public', join(dir, 'nope.json'), '--value', '5'], /key-file-unreadable/],
    [['encrypt', '--public', priv.replace('private', 'garbage'), '--value', '5'], /key-file-unreadable/],
    [['add', '--public', pub, 'abcd'], /ciphertext-length/],
    [['decrypt', '--private', pub, '--ciphertext', 'ab'], /malformed-key/],
    [['decrypt', '--private', priv, '--ciphertext', '0'.repeat(1024)], /ciphertext-out-of-range/],
    [['encrypt', '--public', pub], /required option '--value/],
  ];
  for (const [args, pattern] of cases) {
    const r = await cli(...args);
    t.not(r.code, 0, args.join(' '));
    t.regex(r.stderr, pattern, args.join(' '));
    t.is(r.stderr.split('\n').filter((l) => !l.startsWith('(run with --help')).length, 1, `one line for ${args.join(' ')}`);
  }
  const garbage = join(dir, 'garbage.json');
  writeFileSync(garbage, '{"scheme":"paillier"');
  t.regex((await cli('encrypt', '--public', garbage, '--value', '5')).stderr, /malformed-key/);
});

test('every command has --help', async (t) => {
  for (const command of ['keygen', 'encrypt', 'add', 'decrypt']) {
    const r = await cli(command, '--help');
    t.is(r.code, 0);
    t.regex(r.stdout, new RegExp(`Usage: meterveil ${command}`));
  }
});
