/** The log level from the command line or the environment, and how a JSON log line reads on a terminal. */
import test from 'ava';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { LOG_LEVEL_ENV, logLevel } from '../../host/log/logger.ts';
import { parseLogLine, prettyLine } from '../../host/log/pretty.ts';

const BIN = fileURLToPath(new URL('../../bin/meterveil.js', import.meta.url));

test('the level is info by default, or what METERVEIL_LOG_LEVEL names; another name is refused with its reason', (t) => {
  t.is(logLevel({}), 'info');
  t.is(logLevel({ [LOG_LEVEL_ENV]: 'warn' }), 'warn');
  t.is(logLevel({ [LOG_LEVEL_ENV]: 'silent' }), 'silent');
  const error = t.throws(() => logLevel({ [LOG_LEVEL_ENV]: 'loud' }));
  t.regex(error.message, /^bad-argument: METERVEIL_LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent$/);
});

test('--log-level takes the level names only', async (t) => {
  const failed = (await promisify(execFile)(process.execPath, [BIN, '--log-level', 'loud', 'start']).catch((e) => e)) as {
    code: number;
    stderr: string;
  };
  t.not(failed.code, 0);
  t.regex(
    failed.stderr,
    /--log-level <level>' argument 'loud' is invalid\. Allowed choices are fatal, error, warn, info, debug, trace, silent/,
  );
});

test('a record reads as its message, after its level when it is not info, with its reason when the message lacks it', (t) => {
  const line = JSON.stringify({
    level: 'warn',
    time: '2026-12-02T16:00:00.000Z',
    role: 'broker',
    reason: 'bad-credentials',
    msg: 'broker refused a client',
  });
  t.is(prettyLine(parseLogLine(line)!), 'WARN broker refused a client (bad-credentials)');
  t.is(
    prettyLine({ level: 'info', role: 'provider', slot: 1, reason: 'below-k', msg: 'provider: refused g/1: below-k (2 < 3)' }),
    'provider: refused g/1: below-k (2 < 3)',
  );
  t.is(parseLogLine('meterveil: config-unreadable: cannot read x'), undefined, 'not a record');
  t.is(parseLogLine('{"no":"message"}'), undefined);
});
