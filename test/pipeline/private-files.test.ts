/**
 * Under the common umask 022 the roles' files are still readable by their owner alone: the SQLite
 * databases with their WAL and shared-memory files, and the logs `start` writes for each child
 * role. And METERVEIL_PASSPHRASE reaches only the child roles that unseal a key: real child
 * processes started by the supervisor, their environments read from /proc.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../host/config/load.ts';
import { ensureSecrets } from '../../host/config/secrets.ts';
import { PASSPHRASE_ENV } from '../../host/keys/passphrase.ts';
import { ProviderStore } from '../../host/provider/store.ts';
import { Supervisor } from '../../host/start/supervisor.ts';
import { silentLog } from '../../host/log/logger.ts';
import { freePort } from '../../tools/pipeline/deployment.ts';

const modeOf = (path: string) => statSync(path).mode & 0o777;

function scratch(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-private-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test.serial(
  'a role database, its WAL and shared-memory files are 0600 under umask 022, and a wider file of an earlier run is narrowed',
  (t) => {
    const previous = process.umask(0o022);
    t.teardown(() => process.umask(previous));
    const dir = scratch(t);
    const path = join(dir, 'provider.sqlite');
    const store = new ProviderStore(path, ['k1']);
    store.insertRefusal({ groupId: 'g', slot: 1, reason: 'below-k', detail: 'x', count: 1, receivedAt: 0 }, null);
    t.true(existsSync(`${path}-wal`) && existsSync(`${path}-shm`), 'WAL mode with both companion files');
    for (const file of [path, `${path}-wal`, `${path}-shm`]) t.is(modeOf(file), 0o600, file);
    store.close();

    for (const file of [path, `${path}-wal`, `${path}-shm`].filter(existsSync)) chmodSync(file, 0o644);
    const reopened = new ProviderStore(path, ['k1']);
    t.teardown(() => reopened.close());
    for (const file of [path, `${path}-wal`, `${path}-shm`].filter(existsSync)) t.is(modeOf(file), 0o600, `${file} after reopening`);
  },
);

test.serial('child roles: logs are 0600 under umask 022; the passphrase reaches the role that unseals a key and no other', async (t) => {
  const previous = process.umask(0o022);
  t.teardown(() => process.umask(previous));
  const dir = scratch(t);
  // Two brokers stand in for any two child roles: one told that it unseals a key, one not.
  const configFor = async (name: string) => {
    const path = join(dir, `${name}.json`);
    const port = await freePort();
    writeFileSync(
      path,
      JSON.stringify({
        dataDir: `./${name}`,
        broker: { url: `mqtt://127.0.0.1:${port}`, embedded: true },
        groups: [{ id: 'g', members: ['m1', 'm2'], feeder: 'f', k: 2 }],
      }),
    );
    ensureSecrets(loadConfig(path));
    return path;
  };
  const plainConfig = await configFor('plain');
  const unsealingConfig = await configFor('unsealing');

  const saved = process.env[PASSPHRASE_ENV];
  process.env[PASSPHRASE_ENV] = 'correct horse battery staple';
  t.teardown(() => {
    if (saved === undefined) delete process.env[PASSPHRASE_ENV];
    else process.env[PASSPHRASE_ENV] = saved;
  });
  const logDir = join(dir, 'logs');
  const supervisor = new Supervisor(logDir, { log: silentLog, forward: () => {} }, process.env[PASSPHRASE_ENV]);
  t.teardown(() => supervisor.stopAll());
  await supervisor.start({ name: 'plain', args: ['broker', '--config', plainConfig], show: /^$/ });
  await supervisor.start({ name: 'unsealing', args: ['broker', '--config', unsealingConfig], show: /^$/, unsealsKey: true });

  const environmentOf = (config: string) => {
    const children = execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    const pid = children.find((p) => readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(config));
    if (!pid) throw new Error(`no child process for ${config}`);
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
  };
  t.false(
    environmentOf(plainConfig).some((v) => v.startsWith(`${PASSPHRASE_ENV}=`)),
    'a role that unseals nothing never sees it',
  );
  t.true(environmentOf(unsealingConfig).includes(`${PASSPHRASE_ENV}=correct horse battery staple`));

  for (const name of ['plain', 'unsealing']) t.is(modeOf(join(logDir, `${name}.log`)), 0o600, `${name}.log`);
});
