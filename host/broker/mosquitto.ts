/**
 * Files for running Debian's mosquitto (2.x) as the broker: a config, a password file
 * (mosquitto_passwd hashes) and an ACL file generated from the same table as the embedded broker.
 * Note that mosquitto drops an unauthorised publish silently (MQTT 3.1.1 has no refusal for it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Acl } from './acl.ts';

export interface MosquittoFiles {
  configPath: string;
  passwordPath: string;
  aclPath: string;
}

export function writeMosquittoFiles(
  dir: string,
  options: { host: string; port: number; users: Map<string, string>; acl: Acl },
): MosquittoFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const passwordPath = join(dir, 'passwords');
  const aclPath = join(dir, 'acl');
  const configPath = join(dir, 'mosquitto.conf');

  writeFileSync(passwordPath, [...options.users].map(([u, p]) => `${u}:${p}`).join('\n') + '\n', { mode: 0o600 });
  // -U rewrites the plain-text file in place with salted hashes.
  execFileSync('mosquitto_passwd', ['-U', passwordPath], { stdio: 'pipe' });

  const acl: string[] = [];
  for (const [user, p] of options.acl) {
    acl.push(`user ${user}`);
    for (const t of p.publish) acl.push(`topic write ${t}`);
    for (const t of p.subscribe) acl.push(`topic read ${t}`);
    acl.push('');
  }
  writeFileSync(aclPath, acl.join('\n'), { mode: 0o600 });

  writeFileSync(
    configPath,
    [
      // Started as root, mosquitto switches to this user: the one that owns the 0600 files.
      `user ${userInfo().username}`,
      'per_listener_settings false',
      `listener ${options.port} ${options.host}`,
      'allow_anonymous false',
      `password_file ${passwordPath}`,
      `acl_file ${aclPath}`,
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      'max_packet_size 1048576',
      '',
    ].join('\n'),
  );
  return { configPath, passwordPath, aclPath };
}
