/** Threshold decryption on the command line: keygen --threshold, partial-decrypt, combine. */
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MeterveilError } from '../../firmware/errors.ts';
import { ciphertextFromHex } from '../../firmware/paillier/codec.ts';
import { cliAction, usage } from '../cli/action.ts';
import { addPassphraseOption, resolvePassphrase, type PassphraseOptions } from '../keys/passphrase.ts';
import { partialFromJson, partialToJson } from './codec.ts';
import { combinePartials } from './combine.ts';
import { generateThresholdKey, SUPPORTED_THRESHOLD_BITS } from './dealer.ts';
import { readKeyShareFile, readThresholdPublicKeyFile, writeThresholdKeySet } from './key-files.ts';
import { partialDecrypt, type PartialDecryption } from './partial.ts';
import { custodianSetsOverlap, refuseDisjointQuorums } from './threshold-key.ts';

export interface ThresholdKeygenCliOptions extends PassphraseOptions {
  bits: string;
  out: string;
  threshold?: string;
  custodians?: string;
  allowUndetectableDifferencing?: boolean;
  classic?: boolean;
}

function positiveInteger(text: string | undefined, what: string): number {
  if (text === undefined || !/^[1-9][0-9]*$/.test(text)) usage('bad-argument', `${what} must be a positive integer`);
  return Number(text);
}

/** The threshold branch of `meterveil keygen`, taken when --threshold or --custodians is given. */
export async function thresholdKeygen(opts: ThresholdKeygenCliOptions): Promise<void> {
  const threshold = positiveInteger(opts.threshold, '--threshold');
  const custodians = positiveInteger(opts.custodians, '--custodians');
  refuseDisjointQuorums(threshold, custodians, opts.allowUndetectableDifferencing === true, 'give --allow-undetectable-differencing');
  const bits = Number(opts.bits);
  if (!SUPPORTED_THRESHOLD_BITS.includes(bits as never)) usage('bad-argument', `--bits must be ${SUPPORTED_THRESHOLD_BITS.join(' or ')}`);
  const passphrase = resolvePassphrase(opts);
  const set = await generateThresholdKey({
    bits,
    threshold,
    custodians,
    mode: opts.classic ? 'classic' : 'short-exponent',
    onProgress: (event) => {
      const what = event.step === 'safe-prime' ? `safe prime ${event.found} of ${event.of} found` : 'shares and verification keys ready';
      process.stderr.write(`${what} (${event.seconds.toFixed(1)} s)\n`);
    },
  });
  const { publicPath, sharePaths } = writeThresholdKeySet(opts.out, set, passphrase);
  if (!custodianSetsOverlap(threshold, custodians)) {
    process.stderr.write(
      `warning: with ${threshold} of ${custodians}, two disjoint sets of custodians can each decrypt; custodians cannot then detect differencing between them (choose a threshold above ${custodians / 2})\n`,
    );
  }
  process.stdout.write(
    `key ${set.publicKey.keyId} (${bits} bits, ${threshold} of ${custodians} custodians${passphrase === undefined ? '' : ', shares sealed'})\n` +
      `public: ${publicPath}\n${sharePaths.map((path, i) => `share ${i + 1}: ${path}`).join('\n')}\n`,
  );
}

/** A partial given on the command line: its JSON itself, or a file that holds it. */
function readPartialArgument(argument: string): PartialDecryption {
  const text = argument.trimStart().startsWith('{') || !existsSync(argument) ? argument : readFileSync(argument, 'utf8');
  return partialFromJson(text);
}

export function register(program: Command) {
  addPassphraseOption(
    program
      .command('partial-decrypt')
      .description("a custodian's partial decryption of one ciphertext, with a proof that it is correct (JSON on one line)")
      .requiredOption('--share <file>', 'key share file')
      .requiredOption('--ciphertext <hex>', 'ciphertext as hex'),
    'opens a sealed share',
  ).action(
    cliAction((opts: PassphraseOptions & { share: string; ciphertext: string }) => {
      const share = readKeyShareFile(opts.share, resolvePassphrase(opts));
      const c = ciphertextFromHex(share.publicKey.paillier, opts.ciphertext);
      process.stdout.write(JSON.stringify(partialToJson(partialDecrypt(share, c))) + '\n');
    }),
  );

  program
    .command('combine')
    .description('the plaintext from any T valid partial decryptions; names every partial it rejects')
    .requiredOption('--public <file>', 'threshold public key file')
    .requiredOption('--ciphertext <hex>', 'ciphertext as hex')
    .argument('<partial...>', 'partial decryptions: JSON as printed by partial-decrypt, or files holding it')
    .action(
      cliAction((args: string[], opts: { public: string; ciphertext: string }) => {
        const key = readThresholdPublicKeyFile(opts.public);
        const c = ciphertextFromHex(key.paillier, opts.ciphertext);
        const partials: PartialDecryption[] = [];
        args.forEach((argument, position) => {
          try {
            partials.push(readPartialArgument(argument));
          } catch (e) {
            if (!(e instanceof MeterveilError)) throw e;
            process.stderr.write(`meterveil: rejected partial argument ${position + 1}: ${e.message}\n`);
          }
        });
        const result = combinePartials(key, c, partials);
        for (const r of result.rejected) process.stderr.write(`meterveil: rejected partial from custodian ${r.index}: ${r.message}\n`);
        process.stdout.write(result.plaintext.toString() + '\n');
      }),
    );
}
