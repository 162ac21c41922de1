/** Key rotation on the command line: signing-keygen, announce-key. */
import type { Command } from 'commander';
import { cliAction, usage } from '../cli/action.ts';
import { loadConfig } from '../config/load.ts';
import { readPublicKeyFile } from '../paillier/key-files.ts';
import { publishKeyAnnouncement } from './publish-announcement.ts';
import { addPassphraseOption, resolvePassphrase, type PassphraseOptions } from './passphrase.ts';
import { generateSigningKey, readSigningKeyFile, signKeyAnnouncement, writeSigningKey } from './signing.ts';

export function register(program: Command) {
  addPassphraseOption(
    program
      .command('signing-keygen')
      .description("generate the provider's Ed25519 signing key: DIR/signing.json (0600) and DIR/signing-public.json (for meters)")
      .requiredOption('--out <dir>', 'directory for the key files; existing keys are never overwritten'),
    'seals the signing key',
  ).action(
    cliAction((opts: PassphraseOptions & { out: string }) => {
      const key = generateSigningKey();
      const { privatePath, publicPath } = writeSigningKey(opts.out, key, resolvePassphrase(opts));
      process.stdout.write(`signing key ${key.keyId}\nprivate: ${privatePath}\npublic: ${publicPath}\n`);
    }),
  );

  addPassphraseOption(
    program
      .command('announce-key')
      .description('sign a key rotation: meters switch to the new public key at the start of --effective-slot (JSON on stdout)')
      .requiredOption('--signing-key <file>', 'signing key file')
      .requiredOption('--previous <file>', 'public key in use now')
      .requiredOption('--public <file>', 'new public key')
      .requiredOption('--effective-slot <slot>', 'first slot encrypted under the new key')
      .option('--publish <config>', 'also publish it, retained, on the broker of this deployment config (as the provider)'),
    'opens a sealed signing key',
  ).action(
    cliAction(
      async (
        opts: PassphraseOptions & { signingKey: string; previous: string; public: string; effectiveSlot: string; publish?: string },
      ) => {
        if (!/^(0|[1-9][0-9]*)$/.test(opts.effectiveSlot) || Number(opts.effectiveSlot) > 0xffffffff)
          usage('bad-argument', '--effective-slot must be a slot number (u32)');
        const previous = readPublicKeyFile(opts.previous);
        const publicKey = readPublicKeyFile(opts.public);
        if (previous.keyId === publicKey.keyId) usage('bad-argument', 'the new key is the key in use');
        const key = readSigningKeyFile(opts.signingKey, resolvePassphrase(opts));
        const announcement = signKeyAnnouncement(key, {
          publicKey,
          previousKeyId: previous.keyId,
          effectiveSlot: Number(opts.effectiveSlot),
        });
        process.stdout.write(JSON.stringify(announcement) + '\n');
        if (opts.publish) await publishKeyAnnouncement(loadConfig(opts.publish), announcement);
      },
    ),
  );
}
