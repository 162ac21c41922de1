/**
 * `meterveil broker --mosquitto DIR`: runs Debian's mosquitto with the folder `provision` wrote
 * (DIR/mosquitto.conf, passwords, acl; persistence in DIR/persistence/).
 *
 * Started as root, mosquitto gives up root for its own user (`mosquitto` on Debian) before it
 * reads the password and ACL files, so those files, the TLS certificate and key (DIR/tls/), and the persistence folder it writes, are
 * handed to that user first, and every folder above DIR must let it pass. Started as anyone else,
 * mosquitto runs as that user, who owns the files already.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import { runChildBroker, type RunningChildBroker } from './child-broker.ts';

export type RunningMosquitto = RunningChildBroker;

const MOSQUITTO_USER = 'mosquitto';

function userIds(user: string): { uid: number; gid: number } {
  try {
    const uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return fail(
      'mosquitto-unavailable',
      `there is no user "${user}", which mosquitto runs as when started as root (Debian: apt install mosquitto)`,
    );
  }
}

/** Hands the broker's files to mosquitto's user, and refuses a folder above them that the user cannot pass. */
function handOver(dir: string, persistenceDir: string, files: string[]): void {
  const { uid, gid } = userIds(MOSQUITTO_USER);
  for (let above = dirname(dir); ; above = dirname(above)) {
    const stats = statSync(above);
    if (stats.uid !== uid && (stats.mode & 0o001) === 0)
      fail(
        'mosquitto-folder-unreachable',
        `${above} is mode ${(stats.mode & 0o777).toString(8)}: the ${MOSQUITTO_USER} user cannot reach ${dir} through it (chmod o+x it, or move the broker folder)`,
      );
    if (above === dirname(above)) break;
  }
  for (const path of [dir, persistenceDir, ...files]) chownSync(path, uid, gid);
}

function settingOf(conf: string, name: string): string[] {
  return conf
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((words) => words[0] === name)
    .map((words) => words.slice(1).join(' '));
}

export async function runMosquitto(dirArgument: string, log: (line: string) => void, startTimeoutMs = 10_000): Promise<RunningMosquitto> {
  const dir = resolve(dirArgument);
  const configPath = join(dir, 'mosquitto.conf');
  for (const name of ['mosquitto.conf', 'passwords', 'acl'])
    if (!existsSync(join(dir, name)))
      fail(
        'mosquitto-files-missing',
        `${join(dir, name)} does not exist: give the broker folder that \`meterveil provision\` wrote (OUT/broker)`,
      );
  const conf = readFileSync(configPath, 'utf8');
  const listeners = settingOf(conf, 'listener').map((words) => {
    const [port, host] = words.split(' ');
    return { port: Number(port), host: host ?? '*' };
  });
  const [persistenceDir] = settingOf(conf, 'persistence_location');
  // The TLS listeners' certificate and key, and the folders they sit in (broker/tls/, mode 0700).
  const tlsPaths = ['cafile', 'certfile', 'keyfile'].flatMap((name) => settingOf(conf, name));
  const tlsFiles = [...new Set([...tlsPaths.map((p) => dirname(p)), ...tlsPaths])];
  if (persistenceDir) mkdirSync(persistenceDir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0 && settingOf(conf, 'user').length === 0)
    handOver(dir, persistenceDir ?? dir, [join(dir, 'passwords'), join(dir, 'acl'), ...tlsFiles]);

  return runChildBroker({
    command: 'mosquitto',
    args: ['-c', configPath],
    listeners,
    log,
    unavailable: { reason: 'mosquitto-unavailable', message: 'the mosquitto command is not installed (Debian: apt install mosquitto)' },
    exitedReason: 'mosquitto-exited',
    startTimeoutMs,
  });
}
