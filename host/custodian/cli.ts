/** `meterveil custodian --share FILE --config FILE`: one custodian, until SIGINT or SIGTERM. */
import type { Command } from 'commander';
import { cliAction } from '../cli/action.ts';
import { loadConfig } from '../config/load.ts';
import { addPassphraseOption, resolvePassphrase, type PassphraseOptions } from '../keys/passphrase.ts';
import { readKeyShareFile } from '../threshold/key-files.ts';
import { runCustodian } from './run.ts';

export function register(program: Command) {
  addPassphraseOption(
    program
      .command('custodian')
      .description('hold one key share: check each decryption request against the policy and its own record, then answer with a partial decryption')
      .requiredOption('--share <file>', 'this custodian\'s key share file')
      .requiredOption('--config <file>', 'deployment config (groups, k, broker); its secrets file holds this custodian\'s broker password'),
    'opens a sealed share',
  ).action(cliAction(async (opts: PassphraseOptions & { share: string; config: string }) => {
    const config = loadConfig(opts.config);
    const share = readKeyShareFile(opts.share, resolvePassphrase(opts));
    const log = (line: string) => process.stderr.write(line + '\n');
    const running = await runCustodian(config, share, { log });
    log(`custodian ${share.index} of ${share.publicKey.custodians} (key ${share.publicKey.keyId}, ${share.publicKey.threshold} needed) connected to ${config.broker.url}`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await running.stop();
  }));
}
