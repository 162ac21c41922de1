/**
 * `meterveil custodian --share FILE [--share FILE...] --config FILE`: one custodian, until SIGINT
 * or SIGTERM. One --share per key it holds shares of (during a key rotation, the old and the new).
 * A masked deployment's custodian holds mask keys instead (its secrets file): `--index I`.
 * `meterveil cosign-announcement --signing-key FILE --share FILE --announcement FILE`: the
 * announcement with this custodian's cosignature added, on stdout.
 */
import type { Command } from 'commander';
import { cliAction, usage } from '../cli/action.ts';
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
import { runCustodian, runMaskedCustodian } from './run.ts';
import type { MeterveilConfig } from '../config/schema.ts';

/** A masked deployment's custodian: n of n, its mask keys from the secrets file. */
async function runMasked(config: MeterveilConfig, opts: { share?: string[]; index?: string; metrics?: string }): Promise<void> {
  const d = config.provider.decryption;
  if (opts.share || opts.index === undefined) usage('bad-argument', "a masked deployment's custodian takes --index, and holds no share");
  const index = Number(opts.index);
  if (d.mode !== 'threshold' || !Number.isInteger(index) || index < 1 || index > d.custodians)
    usage('bad-argument', `--index must be 1..${d.mode === 'threshold' ? d.custodians : 0}, the custodians of provider.decryption`);
  const log = roleLogger('custodian', { custodian: index });
  const running = await runMaskedCustodian(config, index, { log });
  const stopped = untilSignal(await withMetrics(running.metrics, opts.metrics, () => running.stop()));
  log.info(`custodian ${index} of ${d.custodians} (masked, all ${d.custodians} needed) connected to ${config.broker.url}`);
  await announceReady();
  await stopped;
}

export function register(program: Command) {
  addPassphraseOption(
    addMetricsOption(program.command('custodian'))
      .description(
        'hold key shares: check each decryption request against the policy and its own record, then answer with a partial decryption under the share of the key it names',
      )
      .option(
        '--share <file>',
        "this custodian's key share file; repeat it for each key of the ring (all with one passphrase)",
        (file: string, files: string[] = []) => [...files, file],
      )
      .option('--index <i>', "a masked deployment's custodian i: its mask keys of the meters are in the config's secrets file")
      .requiredOption('--config <file>', "deployment config (groups, k, broker); its secrets file holds this custodian's broker password"),
    'opens a sealed share',
  ).action(
    cliAction(async (opts: PassphraseOptions & { share?: string[]; index?: string; config: string; metrics?: string }) => {
      const config = loadConfig(opts.config);
      if (config.scheme.name === 'masked') return runMasked(config, opts);
      if (!opts.share || opts.index !== undefined)
        usage('bad-argument', "a Paillier deployment's custodian takes --share (one per key), not --index");
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
