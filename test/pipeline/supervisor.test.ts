/**
 * The `start` supervisor and its child roles: readiness and start-up failures travel over the IPC
 * channel, the operator's log lines (JSON) are passed on unchanged, and a role started by hand
 * (no channel) runs and stops as before.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Supervisor } from '../../host/start/supervisor.ts';
import { silentLog } from '../../host/log/logger.ts';
import { deploy } from '../../tools/pipeline/deployment.ts';

const BIN = fileURLToPath(new URL('../../bin/meterveil.js', import.meta.url));

function supervisor(t: { teardown: (fn: () => unknown) => void }) {
  const logDir = mkdtempSync(join(tmpdir(), 'meterveil-supervisor-'));
  const printed: string[] = [];
  const running = new Supervisor(logDir, { log: silentLog, forward: (line) => printed.push(line) });
  t.teardown(async () => {
    await running.stopAll();
    rmSync(logDir, { recursive: true, force: true });
  });
  return { running, printed, logDir };
}

test('a role that fails at start-up says why over its channel, and the supervisor names the reason', async (t) => {
  const { running, logDir } = supervisor(t);
  const missing = join(logDir, 'no-such-config.json');
  const error = await t.throwsAsync(
    running.start({ name: 'aggregator-g', args: ['aggregator', '--config', missing, '--group', 'g'], show: /^$/ }),
  );
  t.regex(
    error!.message,
    /^role-exited: aggregator-g exited during start-up \(code 1: config-unreadable: cannot read .*no-such-config\.json: ENOENT/,
  );
  t.true(error!.message.endsWith(`see ${join(logDir, 'aggregator-g.log')}`));
});

test('a supervised role is ready when it says so; its log lines reach the console and the log file unchanged', async (t) => {
  const d = await deploy({ groups: [{ id: 'street', members: ['m1', 'm2'], feeder: 'feeder-street', k: 2 }] });
  t.teardown(() => d.cleanup());
  const { running, printed, logDir } = supervisor(t);
  await running.start({ name: 'aggregator-street', args: ['aggregator', '--config', d.configPath, '--group', 'street'], show: /running/ });
  t.is(printed.length, 1);
  const record = JSON.parse(printed[0]);
  t.like(record, { level: 'info', role: 'aggregator', group: 'street', msg: 'aggregator street running' });
  t.regex(record.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  await running.stopAll();
  t.true(readFileSync(join(logDir, 'aggregator-street.log'), 'utf8').split('\n').includes(printed[0]), 'the same line in the log file');
});

test('a role started by hand, without a channel, logs that it runs and stops cleanly on SIGTERM', async (t) => {
  const d = await deploy({ groups: [{ id: 'street', members: ['m1', 'm2'], feeder: 'feeder-street', k: 2 }] });
  t.teardown(() => d.cleanup());
  const child = spawn(process.execPath, [BIN, 'aggregator', '--config', d.configPath, '--group', 'street'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (/"msg":"aggregator street running"}\n/.test(output)) resolve();
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before running:\n${output}`)));
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.is(await exit, 0);
});
