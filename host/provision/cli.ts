/** `meterveil provision --config FILE --out DIR`: credentials and configurations for every party. */
import { readCosigners } from '../config/key-ring.ts';
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parseJsonObject } from '../../firmware/paillier/codec.ts';
import { cliAction } from '../cli/action.ts';
import { fail } from '../../firmware/errors.ts';
import { loadConfig } from '../config/load.ts';
import { refuseDisclosingLayout } from '../policy/layout.ts';
import { readSigningPublicFile } from '../keys/signing.ts';
import { readPublicKeyFile } from '../paillier/key-files.ts';
import { readDeviceFile } from './devices.ts';
import { roleKeyLists } from './key-lists.ts';
import { planProvisioning, type ProvisionPlan } from './plan.ts';
import { join, resolve } from 'node:path';
import { NATS_ROUTE_USER, natsNodeConfs } from '../broker/nats-files.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { freshPassword, natsPasswordHash } from './credentials.ts';
import { writeProvisioning } from './write.ts';
import { provisionCertificates, provisionedBrokerUrls, type ProvisionCertificates } from './certificates.ts';
import { DEFAULT_READERS, freshApiToken } from '../provider/api-tokens.ts';
import { id as checkId } from '../../firmware/config/rules.ts';
import { pemToDerHex } from '../tls/certificates.ts';
import { brokerUsesTls } from '../tls/files.ts';

export interface ProvisionOptions {
  /** Certificates made beforehand (tests reuse one set); absent: a fresh CA and its certificates. */
  certificates?: ProvisionCertificates;
  /** The API's readers, each given a token; default: the dashboard and scripts. */
  readers?: string[];
}

export async function provision(
  configPath: string,
  outDir: string,
  signingPublicPath?: string,
  devicesPath?: string,
  options: ProvisionOptions = {},
): Promise<{ keyId: string; meters: number; aggregators: number; custodians: number; files: string[] }> {
  const config = loadConfig(configPath);
  refuseDisclosingLayout(config.groups);
  const publicKey = readPublicKeyFile(config.keys.publicKey);
  const publicJson = parseJsonObject(readFileSync(config.keys.publicKey, 'utf8'), config.keys.publicKey);
  const keyLists = roleKeyLists(config);
  const d = config.provider.decryption;
  const custodians = d.mode === 'threshold' ? d.custodians : 0;
  const signingPublicKey = signingPublicPath === undefined ? undefined : readSigningPublicFile(signingPublicPath);
  const devices = devicesPath === undefined ? undefined : readDeviceFile(devicesPath);
  provisionedBrokerUrls(config, devices);
  const names = options.readers ?? DEFAULT_READERS;
  if (names.length === 0 || new Set(names).size !== names.length) fail('bad-argument', '--readers must name distinct readers');
  for (const name of names) checkId(name, `reader "${name}"`, (field, explanation) => fail('bad-argument', `${field}: ${explanation}`));
  const readers = new Map(names.map((name) => [name, freshApiToken()]));
  const certificates = options.certificates ?? (await provisionCertificates(config, devices));
  const plan = planProvisioning(config, publicKey, {
    signingPublicKey,
    custodians,
    cosigners: readCosigners(config),
    devices,
    caDerHex: pemToDerHex(certificates.ca.cert),
  });
  const rawConfig = parseJsonObject(readFileSync(configPath, 'utf8'), configPath);
  const files = writeProvisioning(
    outDir,
    plan,
    rawConfig,
    publicJson,
    keyLists,
    certificates,
    readers,
    provisionedNatsConfs(config, plan, outDir),
  );
  return { keyId: plan.keyId, meters: plan.meters.length, aggregators: plan.aggregators.size, custodians, files };
}

export function register(program: Command) {
  program
    .command('provision')
    .description('per-meter ids, MAC keys, broker credentials and configurations; aggregator, provider and broker configurations to match')
    .requiredOption('--config <file>', 'deployment config (groups, broker, packing); its public key must exist')
    .requiredOption('--out <dir>', 'new or empty directory for the output; every secret file is mode 0600')
    .option('--signing-public <file>', "the provider's signing-public.json: meters accept key rotations signed with it")
    .option(
      '--devices <file>',
      "the meters' boards, sensors, Wi-Fi and broker URLs: JSON with defaults and per-meter settings, or a CSV (docs/firmware.md)",
    )
    .option('--readers <names>', "the API's readers, comma-separated: each gets a bearer token in OUT/readers/", DEFAULT_READERS.join(','))
    .action(
      cliAction(async (opts: { config: string; out: string; signingPublic?: string; devices?: string; readers: string }) => {
        const readers = opts.readers.split(',').filter(Boolean);
        const result = await provision(opts.config, opts.out, opts.signingPublic, opts.devices, { readers });
        const custodians = result.custodians > 0 ? ` and ${result.custodians} custodians` : '';
        process.stdout.write(
          `provisioned ${result.meters} meters, ${result.aggregators} aggregators${custodians} for key ${result.keyId} into ${opts.out}\n`,
        );
      }),
    );
}

/** With broker.cluster, each node's config, naming the files provision writes into OUT/broker/. */
function provisionedNatsConfs(config: MeterveilConfig, plan: ProvisionPlan, outDir: string): Map<string, string> | undefined {
  if (!config.broker.cluster) return undefined;
  const dir = resolve(outDir, 'broker');
  return natsNodeConfs(config, {
    dir: join(dir, 'nats'),
    users: new Map([...plan.brokerUsers].map(([user, password]) => [user, natsPasswordHash(password)])),
    acl: plan.acl,
    routeUser: { user: NATS_ROUTE_USER, password: freshPassword() },
    tls: brokerUsesTls(config)
      ? { caFile: join(dir, 'tls/ca.pem'), certFile: join(dir, 'tls/broker.pem'), keyFile: join(dir, 'tls/broker-key.pem') }
      : undefined,
  });
}
