/** keygen, encrypt, add, decrypt: the Paillier core on the command line. */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { ciphertextFromHex, ciphertextToHex } from '../../firmware/paillier/codec.ts';
import { generateKeyPair, SUPPORTED_KEY_BITS } from '../paillier/keygen.ts';
import { readPrivateKeyFile, readPublicKeyFile, writeKeyPair } from '../paillier/key-files.ts';
import { addPassphraseOption, resolvePassphrase, type PassphraseOptions } from '../keys/passphrase.ts';
import { thresholdKeygen, type ThresholdKeygenCliOptions } from '../threshold/cli.ts';
import { cliAction, parseDecimal, usage } from './action.ts';

export const nodeRandom = (length: number) => new Uint8Array(randomBytes(length));

export function register(program: Command) {
  addPassphraseOption(
    program
      .command('keygen')
      .description(
        'generate a Paillier key pair: DIR/public.json and DIR/private.json (mode 0600); with --threshold, DIR/public.json and one share file per custodian',
      )
      .option('--bits <bits>', `modulus size in bits (${SUPPORTED_KEY_BITS.join(' or ')})`, '2048')
      .requiredOption('--out <dir>', 'directory for the key files; existing keys are never overwritten')
      .option('--threshold <t>', 'threshold key: number of custodians needed to decrypt')
      .option('--custodians <n>', 'threshold key: number of custodians, each given one share')
      .option(
        '--classic',
        'classic randomness r^n and a version-1 public key, instead of the short-exponent hs^a (half the exponent; see docs/keys.md)',
      )
      .option(
        '--allow-undetectable-differencing',
        'accept 2t <= n: two disjoint sets of custodians could each decrypt one of two aggregates that difference each other',
      ),
    'seals the private key or shares',
  ).action(
    cliAction(async (opts: ThresholdKeygenCliOptions) => {
      if (opts.threshold !== undefined || opts.custodians !== undefined) return thresholdKeygen(opts);
      const bits = Number(opts.bits);
      if (!SUPPORTED_KEY_BITS.includes(bits as never)) usage('bad-argument', `--bits must be ${SUPPORTED_KEY_BITS.join(' or ')}`);
      const passphrase = resolvePassphrase(opts);
      const pair = await generateKeyPair(bits, opts.classic ? 'classic' : 'short-exponent');
      const { publicPath, privatePath } = writeKeyPair(opts.out, pair, passphrase);
      const mode = opts.classic ? 'classic r^n' : 'short-exponent';
      process.stdout.write(`key ${pair.publicKey.keyId} (${bits} bits, ${mode})\npublic: ${publicPath}\nprivate: ${privatePath}\n`);
    }),
  );

  program
    .command('encrypt')
    .description('encrypt one non-negative integer; prints the ciphertext as hex')
    .requiredOption('--public <file>', 'public key file')
    .requiredOption('--value <decimal>', 'plaintext, a non-negative integer below n')
    .action(
      cliAction((opts: { public: string; value: string }) => {
        const key = readPublicKeyFile(opts.public);
        const value = parseDecimal(opts.value, '--value');
        process.stdout.write(ciphertextToHex(key, key.encrypt(value, nodeRandom)) + '\n');
      }),
    );

  program
    .command('add')
    .description('add ciphertexts homomorphically; prints the ciphertext of the sum as hex')
    .requiredOption('--public <file>', 'public key file')
    .argument('<hex...>', 'ciphertexts as hex')
    .action(
      cliAction((hexes: string[], opts: { public: string }) => {
        const key = readPublicKeyFile(opts.public);
        const ciphertexts = hexes.map((hex) => ciphertextFromHex(key, hex));
        process.stdout.write(ciphertextToHex(key, key.add(...ciphertexts)) + '\n');
      }),
    );

  addPassphraseOption(
    program
      .command('decrypt')
      .description('decrypt one ciphertext; prints the plaintext in decimal')
      .requiredOption('--private <file>', 'private key file')
      .requiredOption('--ciphertext <hex>', 'ciphertext as hex'),
    'opens a sealed private key',
  ).action(
    cliAction((opts: PassphraseOptions & { private: string; ciphertext: string }) => {
      const key = readPrivateKeyFile(opts.private, resolvePassphrase(opts));
      process.stdout.write(key.decrypt(ciphertextFromHex(key.publicKey, opts.ciphertext)).toString() + '\n');
    }),
  );
}
