/**
 * `meterveil broker --mosquitto DIR`: runs Debian's mosquitto with the folder `provision` wrote
 * (DIR/mosquitto.conf, passwords, acl; persistence in DIR/persistence/).
 *
 * Started as root, mosquitto gives up root for its own user (`mosquitto` on Debian) before it
 * reads the password and ACL files, so those files, the TLS certificate and key (DIR/tls/), and the persistence folder it writes, are
 * handed to that user first, and every folder above DIR must let it pass. Started as anyone else,
 * mosquitto runs as that user, who owns the files already.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fail } from '../../firmware/errors.ts';

export interface RunningMosquitto {
  /** The addresses it listens on, as `host:port` (`*` for every interface). */
  listeners: string[];
  stop(): Promise<void>;
  /** Settles when mosquitto exits by itself; rejects with `mosquitto-exited` and its last words. */
  exited: Promise<never>;
}

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

function acceptsConnections(port: number, host: string): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, host === '*' ? '127.0.0.1' : host);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
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

  const child = spawn('mosquitto', ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let lastWords = '';
  let stopping = false;
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    for (const line of text.split('\n').filter(Boolean)) {
      lastWords = line;
      log(`mosquitto: ${line}`);
    }
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(e));
    child.once('exit', (code, signal) => {
      if (!stopping) reject(new Error(`mosquitto exited (${signal ?? `code ${code}`}): ${lastWords}`));
    });
  }).catch((e: Error & { code?: string }) =>
    e.code === 'ENOENT'
      ? fail('mosquitto-unavailable', 'the mosquitto command is not installed (Debian: apt install mosquitto)')
      : fail('mosquitto-exited', e.message),
  );
  // Until it listens, an early exit is the answer; afterwards the caller watches `exited`.
  exited.catch(() => undefined);

  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    const listening = await Promise.race([
      Promise.all(listeners.map((l) => acceptsConnections(l.port, l.host))).then((all) => all.every(Boolean)),
      exited,
    ]);
    if (listening) break;
    if (Date.now() > deadline) {
      stopping = true;
      child.kill('SIGTERM');
      fail(
        'mosquitto-exited',
        `mosquitto did not listen on ${listeners.map((l) => `${l.host}:${l.port}`).join(', ')} within ${startTimeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    listeners: listeners.map((l) => `${l.host}:${l.port}`),
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const gone = new Promise((r) => child.once('exit', r));
      stopping = true;
      child.kill('SIGTERM');
      await gone;
    },
  };
}
