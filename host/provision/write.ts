/**
 * Writes a provisioning plan into a fresh directory; every file holding a secret is mode 0600,
 * every directory 0700. Layout:
 *   secrets.json                          all secrets (for `meterveil start`, all roles in one process)
 *   meters/<id>/config.json               the firmware configuration (JSON bundle; simulator input)
 *   meters/<id>/mcconfig.args             the same for `mcconfig ... $(cat mcconfig.args)`
 *   meters/<id>/preferences.json          the same as preference entries to write on the device
 *   aggregators/<group>/config.json       the deployment config, dataDir ./data
 *   aggregators/<group>/data/keys/        public.json, secrets.json (its members' MAC keys only)
 *   provider/config.json, provider/data/keys/   likewise, its broker password only
 *   custodians/<i>/config.json, custodians/<i>/data/keys/   threshold keys only: likewise
 *   feeders/<id>/credentials.json         the feeder meter's broker login
 *   broker/users.json                     scrypt hashes of every password
 *   broker/passwords, broker/acl          the same for mosquitto (password_file, acl_file)
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import { mosquittoPasswordLine, scryptPasswordHash } from './credentials.ts';
import { mcconfigArgument, preferenceEntries } from './device-forms.ts';
import type { ProvisionPlan } from './plan.ts';

export const BROKER_USERS_SCHEME = 'meterveil-broker-users';

function writeFile(path: string, body: string | object, mode = 0o600): string {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, typeof body === 'string' ? body : JSON.stringify(body, null, 2) + '\n', { flag: 'wx', mode });
  return path;
}

/**
 * The deployment config for one role: the operator's config with its own data folder, so that keys
 * and secrets sit at their default places (data/keys/public.json, data/keys/secrets.json).
 */
function roleConfig(rawConfig: Record<string, unknown>): object {
  const { dataDir: _dataDir, keys: _keys, ...rest } = rawConfig;
  return { dataDir: './data', ...rest };
}

/** publicJson: the public key file as given (a threshold key keeps its verification keys). */
export function writeProvisioning(outDir: string, plan: ProvisionPlan, rawConfig: Record<string, unknown>, publicJson: object): string[] {
  if (existsSync(outDir) && readdirSync(outDir).length > 0) fail('output-exists', `${outDir} is not empty; provisioning never overwrites secrets`);
  const written: string[] = [];
  const file = (path: string, body: string | object, mode?: number) => written.push(writeFile(join(outDir, path), body, mode));

  file('secrets.json', plan.allInOne);
  for (const meter of plan.meters) {
    file(`meters/${meter.meterId}/config.json`, meter);
    file(`meters/${meter.meterId}/mcconfig.args`, mcconfigArgument(meter) + '\n');
    file(`meters/${meter.meterId}/preferences.json`, preferenceEntries(meter));
  }
  for (const [groupId, secrets] of plan.aggregators) {
    file(`aggregators/${groupId}/config.json`, roleConfig(rawConfig), 0o644);
    file(`aggregators/${groupId}/data/keys/public.json`, publicJson, 0o644);
    file(`aggregators/${groupId}/data/keys/secrets.json`, secrets);
  }
  file('provider/config.json', roleConfig(rawConfig), 0o644);
  file('provider/data/keys/public.json', publicJson, 0o644);
  file('provider/data/keys/secrets.json', plan.provider);
  for (const [index, secrets] of plan.custodians) {
    file(`custodians/${index}/config.json`, roleConfig(rawConfig), 0o644);
    file(`custodians/${index}/data/keys/public.json`, publicJson, 0o644);
    file(`custodians/${index}/data/keys/secrets.json`, secrets);
  }
  for (const [feederId, credentials] of plan.feeders) file(`feeders/${feederId}/credentials.json`, credentials);

  const users = [...plan.brokerUsers].sort(([a], [b]) => a.localeCompare(b));
  file('broker/users.json', { scheme: BROKER_USERS_SCHEME, version: 1, users: Object.fromEntries(users.map(([u, p]) => [u, scryptPasswordHash(p)])) });
  file('broker/passwords', users.map(([u, p]) => mosquittoPasswordLine(u, p)).join('\n') + '\n');
  const acl: string[] = [];
  for (const [user, permissions] of plan.acl) {
    acl.push(`user ${user}`, ...[...permissions.publish].map((t) => `topic write ${t}`), ...[...permissions.subscribe].map((t) => `topic read ${t}`), '');
  }
  file('broker/acl', acl.join('\n'));
  return written;
}
