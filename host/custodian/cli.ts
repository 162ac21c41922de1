/**
 * `meterveil custodian --share FILE [--share FILE...] --config FILE`: one custodian, until SIGINT
 * or SIGTERM. One --share per key it holds shares of (during a key rotation, the old and the new).
 */
import type { Command } from 'commander';
import { cliAction } from '../cli/action.ts';
import { announceReady } from '../cli/role-channel.ts';
import { untilSignal } from '../cli/until-signal.ts';
import { loadConfig } from '../config/load.ts';
import { addPassphraseOption, resolvePassphrase, type PassphraseOptions } from '../keys/passphrase.ts';
import { readKeyShareFile } from '../threshold/key-files.ts';
import { custodianSetsOverlap } from '../threshold/threshold-key.ts';
import { runCustodian } from './run.ts';

export function register(program: Command) {
  addPassphraseOption(
    program
      .command('custodian')
      .description(
        'hold key shares: check each decryption request against the policy and its own record, then answer with a partial decryption under the share of the key it names',
      )
      .requiredOption(
        '--share <file>',
        "this custodian's key share file; repeat it for each key of the ring (all with one passphrase)",
        (file: string, files: string[] = []) => [...files, file],
      )
      .requiredOption('--config <file>', "deployment config (groups, k, broker); its secrets file holds this custodian's broker password"),
    'opens a sealed share',
  ).action(
    cliAction(async (opts: PassphraseOptions & { share: string[]; config: string }) => {
      const config = loadConfig(opts.config);
      const passphrase = resolvePassphrase(opts);
      const shares = opts.share.map((file) => readKeyShareFile(file, passphrase));
      const log = (line: string) => process.stderr.write(line + '\n');
      const running = await runCustodian(config, shares, { log });
      const { threshold, custodians } = shares[0].publicKey;
      const keys = shares.map((s) => s.publicKey.keyId).join(', ');
      log(
        `custodian ${shares[0].index} of ${custodians} (key${shares.length > 1 ? 's' : ''} ${keys}, ${threshold} needed) connected to ${config.broker.url}`,
      );
      if (!custodianSetsOverlap(threshold, custodians))
        log(
          `warning: ${threshold} of ${custodians} lets two disjoint sets of custodians decrypt; this custodian cannot see differencing between them`,
        );
      await announceReady();
      await untilSignal(() => running.stop());
    }),
  );
}
