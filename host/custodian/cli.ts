/**
 * `meterveil custodian --share FILE [--share FILE...] --config FILE`: one custodian, until SIGINT
 * or SIGTERM. One --share per key it holds shares of (during a key rotation, the old and the new).
 * `meterveil cosign-announcement --signing-key FILE --share FILE --announcement FILE`: the
 * announcement with this custodian's cosignature added, on stdout.
 */
import type { Command } from 'commander';
import { cliAction } from '../cli/action.ts';
import { announceReady } from '../cli/role-channel.ts';
import { roleLogger } from '../log/logger.ts';
import { addMetricsOption, withMetrics } from '../cli/metrics-option.ts';
import { untilSignal } from '../cli/until-signal.ts';
import { loadConfig } from '../config/load.ts';
import { addPassphraseOption, resolvePassphrase, type PassphraseOptions } from '../keys/passphrase.ts';
import { readFileSync } from 'node:fs';
import { readSigningKeyFile } from '../keys/signing.ts';
import { readKeyShareFile } from '../threshold/key-files.ts';
import { cosignKeyAnnouncement } from './cosign.ts';
import { custodianSetsOverlap, refuseDisjointQuorums } from '../threshold/threshold-key.ts';
import { runCustodian } from './run.ts';

export function register(program: Command) {
  addPassphraseOption(
    addMetricsOption(program.command('custodian'))
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
    cliAction(async (opts: PassphraseOptions & { share: string[]; config: string; metrics?: string }) => {
      const config = loadConfig(opts.config);
      const passphrase = resolvePassphrase(opts);
      const shares = opts.share.map((file) => readKeyShareFile(file, passphrase));
      const d = config.provider.decryption;
      refuseDisjointQuorums(
        shares[0].publicKey.threshold,
        shares[0].publicKey.custodians,
        d.mode === 'threshold' && d.allowUndetectableDifferencing,
        'set provider.decryption.allowUndetectableDifferencing to true in the config',
      );
      const log = roleLogger('custodian', { custodian: shares[0].index });
      const running = await runCustodian(config, shares, { log });
      const stopped = untilSignal(await withMetrics(running.metrics, opts.metrics, () => running.stop()));
      const { threshold, custodians } = shares[0].publicKey;
      const keys = shares.map((s) => s.publicKey.keyId).join(', ');
      log.info(
        `custodian ${shares[0].index} of ${custodians} (key${shares.length > 1 ? 's' : ''} ${keys}, ${threshold} needed) connected to ${config.broker.url}`,
      );
      if (!custodianSetsOverlap(threshold, custodians))
        log.warn(
          `${threshold} of ${custodians} lets two disjoint sets of custodians decrypt; this custodian cannot see differencing between them`,
        );
      await announceReady();
      await stopped;
    }),
  );

  addPassphraseOption(
    program
      .command('cosign-announcement')
      .description('cosign a key announcement for a key this custodian holds a share of (JSON with the cosignature added, on stdout)')
      .requiredOption('--signing-key <file>', "this custodian's signing key file (signing-keygen)")
      .requiredOption('--share <file>', "this custodian's share of the announced key")
      .requiredOption('--announcement <file>', 'the announcement, as announce-key printed it or with other cosignatures already'),
    'opens a sealed signing key and share',
  ).action(
    cliAction((opts: PassphraseOptions & { signingKey: string; share: string; announcement: string }) => {
      const passphrase = resolvePassphrase(opts);
      const share = readKeyShareFile(opts.share, passphrase);
      const key = readSigningKeyFile(opts.signingKey, passphrase);
      const cosigned = cosignKeyAnnouncement(key, share, readFileSync(opts.announcement, 'utf8'));
      process.stdout.write(JSON.stringify(cosigned) + '\n');
    }),
  );
}
