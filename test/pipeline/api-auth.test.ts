/**
 * The provider's API as a reader meets it, with curl: over HTTPS with the deployment CA, 401 and
 * the usual JSON error body without a token or with a token that is no reader's, JSON with one;
 * /metrics needs one too, the page does not. A provider without its readers' tokens does not start.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { MeterveilError } from '../../firmware/errors.ts';
import { apiTokensFile, parseApiTokens, readerOf } from '../../host/provider/api-tokens.ts';
import { runProvider } from '../../host/provider/run.ts';
import { deploy, TEST_API_TOKEN } from '../../tools/pipeline/deployment.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

const run = promisify(execFile);

/** curl's status line and body; -w prints the status after the body. */
async function curl(url: string, ...args: string[]) {
  const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', ...args, url]);
  const at = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(at + 1)), body: stdout.slice(0, at) };
}

test('curl: 401 and a JSON error without a reader’s token, JSON with one, over HTTPS verified against the CA', async (t) => {
  const d = await deploy({
    groups: [{ id: 'street', members: ['m1', 'm2'], feeder: 'f1', k: 2 }],
    keyPair: testKeyPair(),
    tls: true,
    extra: { http: { host: '127.0.0.1', port: 0, tls: true } },
  });
  t.teardown(() => d.cleanup());
  const provider = await runProvider(d.config);
  t.teardown(() => provider.stop());
  t.regex(provider.apiUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
  const trust = ['--cacert', d.config.tls.ca];

  const none = await curl(`${provider.apiUrl}/api/health`, ...trust);
  t.is(none.status, 401);
  t.like(JSON.parse(none.body), { error: 'token-required' });
  const { stdout: headers } = await run('curl', ['-sS', '-o', '/dev/null', '-D', '-', ...trust, `${provider.apiUrl}/api/groups`]);
  t.regex(headers, /^www-authenticate: Bearer/im);

  const wrong = await curl(`${provider.apiUrl}/api/health`, ...trust, '-H', `Authorization: Bearer ${'x'.repeat(43)}`);
  t.is(wrong.status, 401);
  t.like(JSON.parse(wrong.body), { error: 'token-refused' });

  const auth = ['-H', `Authorization: Bearer ${TEST_API_TOKEN}`];
  const health = await curl(`${provider.apiUrl}/api/health`, ...trust, ...auth);
  t.is(health.status, 200);
  t.like(JSON.parse(health.body), { status: 'ok', broker: 'connected', groups: 1 });
  t.is((await curl(`${provider.apiUrl}/api/groups/street/series`, ...trust, ...auth)).status, 200);

  t.is((await curl(`${provider.apiUrl}/metrics`, ...trust)).status, 401, 'metrics are for readers too');
  t.not((await curl(`${provider.apiUrl}/`, ...trust)).status, 401, 'the page itself needs no token');

  // Without the deployment CA curl does not trust the API (exit 60: certificate problem).
  const untrusted = await run('curl', ['-sS', `${provider.apiUrl}/api/health`]).then(
    () => 0,
    (e: { code: number }) => e.code,
  );
  t.is(untrusted, 60);
});

test('tokens: only a reader’s token is accepted, the file is checked, and the provider does not start without one', async (t) => {
  const tokens = parseApiTokens(apiTokensFile(new Map([['dashboard', TEST_API_TOKEN]])), 'tokens');
  t.is(readerOf(tokens, `Bearer ${TEST_API_TOKEN}`), 'dashboard');
  const reason = (header: string | undefined) => t.throws(() => readerOf(tokens, header), { instanceOf: MeterveilError })!.reason;
  t.is(reason(undefined), 'token-required');
  t.is(reason(`Basic ${TEST_API_TOKEN}`), 'token-required');
  t.is(reason(`Bearer ${TEST_API_TOKEN.slice(0, -1)}A`), 'token-refused');
  t.is(reason('Bearer '), 'token-required');
  for (const bad of [
    {},
    { scheme: 'meterveil-api-tokens', version: 1, readers: {} },
    { ...apiTokensFile(new Map()), readers: { r: 'zz' } },
  ])
    t.is(t.throws(() => parseApiTokens(bad, 'f'), { instanceOf: MeterveilError })!.reason, 'bad-api-tokens');

  const d = await deploy({ groups: [{ id: 'street', members: ['m1', 'm2'], feeder: 'f1', k: 2 }], keyPair: testKeyPair() });
  t.teardown(() => d.cleanup());
  rmSync(d.config.http.tokens);
  t.is((await t.throwsAsync(runProvider(d.config), { instanceOf: MeterveilError }))!.reason, 'secrets-missing');
});
