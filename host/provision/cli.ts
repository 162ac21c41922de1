/** `meterveil provision --config FILE --out DIR`: credentials and configurations for every party. */
import { readCosigners } from '../config/key-ring.ts';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseJsonObject } from '../../firmware/paillier/codec.ts';
import { cliAction } from '../cli/action.ts';
import { loadConfig } from '../config/load.ts';
import { refuseDisclosingLayout } from '../policy/layout.ts';
import { readSigningPublicFile } from '../keys/signing.ts';
import { readPublicKeyFile } from '../paillier/key-files.ts';
import { roleKeyLists } from './key-lists.ts';
import { planProvisioning } from './plan.ts';
import { writeProvisioning } from './write.ts';

export function provision(
  configPath: string,
  outDir: string,
  signingPublicPath?: string,
): { keyId: string; meters: number; aggregators: number; custodians: number; files: string[] } {
  const config = loadConfig(configPath);
  refuseDisclosingLayout(config.groups);
  const publicKey = readPublicKeyFile(config.keys.publicKey);
  const publicJson = parseJsonObject(readFileSync(config.keys.publicKey, 'utf8'), config.keys.publicKey);
  const keyLists = roleKeyLists(config);
  const d = config.provider.decryption;
  const custodians = d.mode === 'threshold' ? d.custodians : 0;
  const signingPublicKey = signingPublicPath === undefined ? undefined : readSigningPublicFile(signingPublicPath);
  const plan = planProvisioning(config, publicKey, { signingPublicKey, custodians, cosigners: readCosigners(config) });
  const rawConfig = parseJsonObject(readFileSync(configPath, 'utf8'), configPath);
  const files = writeProvisioning(outDir, plan, rawConfig, publicJson, keyLists);
  return { keyId: plan.keyId, meters: plan.meters.length, aggregators: plan.aggregators.size, custodians, files };
}

export function register(program: Command) {
  program
    .command('provision')
    .description('per-meter ids, MAC keys, broker credentials and configurations; aggregator, provider and broker configurations to match')
    .requiredOption('--config <file>', 'deployment config (groups, broker, packing); its public key must exist')
    .requiredOption('--out <dir>', 'new or empty directory for the output; every secret file is mode 0600')
    .option('--signing-public <file>', "the provider's signing-public.json: meters accept key rotations signed with it")
    .action(
      cliAction((opts: { config: string; out: string; signingPublic?: string }) => {
        const result = provision(opts.config, opts.out, opts.signingPublic);
        const custodians = result.custodians > 0 ? ` and ${result.custodians} custodians` : '';
        process.stdout.write(
          `provisioned ${result.meters} meters, ${result.aggregators} aggregators${custodians} for key ${result.keyId} into ${opts.out}\n`,
        );
      }),
    );
}
