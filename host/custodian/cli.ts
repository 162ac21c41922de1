/** `meterveil custodian --share FILE --config FILE`: one custodian, until SIGINT or SIGTERM. */
import type { Command } from 'commander';
import { cliAction } from '../cli/action.ts';
import { loadConfig } from '../config/load.ts';
import { addPassphraseOption, resolvePassphrase, type PassphraseOptions } from '../keys/passphrase.ts';
import { readKeyShareFile } from '../threshold/key-files.ts';
import { custodianSetsOverlap } from '../threshold/threshold-key.ts';
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
    const { threshold, custodians, keyId } = share.publicKey;
    log(`custodian ${share.index} of ${custodians} (key ${keyId}, ${threshold} needed) connected to ${config.broker.url}`);
    if (!custodianSetsOverlap(threshold, custodians)) log(`warning: ${threshold} of ${custodians} lets two disjoint sets of custodians decrypt; this custodian cannot see differencing between them`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await running.stop();
  }));
}
