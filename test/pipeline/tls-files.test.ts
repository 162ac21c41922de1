/**
 * The certificates `meterveil start` makes on its first run: a CA and, for what the config uses,
 * the broker's and the API's certificate chains, keys 0600; never overwritten; a deleted pair is
 * issued again from the CA, and certificates without their CA are not covered with a new CA.
 */
import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MeterveilError } from '../../firmware/errors.ts';
import { parseConfig } from '../../host/config/schema.ts';
import { ensureTlsFiles } from '../../host/tls/files.ts';

test('start: a CA and the certificates the config uses, made once, a lost pair issued again from the CA', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-tls-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const groups = [{ id: 'g', members: ['a', 'b'], feeder: 'f', k: 2 }];
  const config = parseConfig({ dataDir: '.', http: { host: '127.0.0.1', tls: true }, groups }, (p) => resolve(dir, p));
  const { tls } = config;

  t.deepEqual(await ensureTlsFiles(config), [tls.ca, tls.brokerCert, tls.apiCert]);
  for (const key of [tls.brokerKey, tls.apiKey, join(dir, 'tls/ca-key.pem')]) t.is(statSync(key).mode & 0o777, 0o600, key);
  t.is(statSync(tls.ca).mode & 0o777, 0o644);
  const ca = new X509Certificate(readFileSync(tls.ca));
  t.true(ca.ca);
  const broker = new X509Certificate(readFileSync(tls.brokerCert));
  t.true(broker.verify(ca.publicKey), 'signed by the CA');
  t.true(broker.checkIP('127.0.0.1') !== undefined && broker.checkHost('localhost') !== undefined);
  t.is(broker.checkHost('broker.example'), undefined);
  t.regex(
    readFileSync(tls.brokerCert, 'utf8'),
    /(-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\s*){2}/,
    'the chain: leaf, then CA',
  );

  const before = readFileSync(tls.apiCert, 'utf8');
  t.deepEqual(await ensureTlsFiles(config), [], 'nothing is made twice');
  rmSync(tls.brokerCert);
  rmSync(tls.brokerKey);
  t.deepEqual(await ensureTlsFiles(config), [tls.brokerCert]);
  t.true(new X509Certificate(readFileSync(tls.brokerCert)).verify(ca.publicKey), 'issued by the same CA');
  t.is(readFileSync(tls.apiCert, 'utf8'), before);

  rmSync(tls.ca);
  rmSync(tls.apiKey);
  const error = await t.throwsAsync(ensureTlsFiles(config), { instanceOf: MeterveilError });
  t.is(error!.reason, 'tls-files-missing');
  t.regex(error!.message, /refusing to make a new CA over them/);
  t.false(existsSync(tls.ca));
});
