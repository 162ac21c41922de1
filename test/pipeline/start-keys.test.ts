/** `npm start` provisions a short-exponent (version 2) key pair when none exists, and keeps a version-1 pair it finds. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import test from 'ava';
import { parseConfig } from '../../host/config/schema.ts';
import { writeKeyPair } from '../../host/paillier/key-files.ts';
import { ensureKeys } from '../../host/start/provision.ts';
import { testKeyPair } from '../helpers/test-keys.ts';

const raw = { dataDir: '.', groups: [{ id: 'g', members: ['m1', 'm2'], feeder: 'f', k: 2 }] };

test('a new deployment gets a short-exponent key; an existing version-1 key is used as it is', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-start-keys-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = parseConfig(raw, (p) => resolve(dir, p));
  const made = await ensureKeys(config);
  t.true(made.created);
  t.is(made.publicKey.shortExponent?.exponentBits, 1024);
  t.is(JSON.parse(readFileSync(config.keys.publicKey, 'utf8')).version, 2);

  const old = mkdtempSync(join(tmpdir(), 'meterveil-start-keys-v1-'));
  t.teardown(() => rmSync(old, { recursive: true, force: true }));
  const oldConfig = parseConfig(raw, (p) => resolve(old, p));
  writeKeyPair(join(old, 'keys'), testKeyPair(2, 'classic'));
  const kept = await ensureKeys(oldConfig);
  t.false(kept.created);
  t.is(kept.publicKey.shortExponent, undefined);
  t.is(kept.publicKey.keyId, testKeyPair(2).publicKey.keyId);
});
