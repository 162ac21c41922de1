/**
 * What can be checked of the device build without the Moddable SDK: the pre-bundles import only
 * modules the manifests provide, the manifests name files that exist, and the HMAC built on the
 * SDK's SHA-256 interface agrees with HMAC-SHA256. That the adapter typechecks against
 * @moddable/typings and manifests/types is `npm run typecheck`'s part (npm test runs it).
 */
import test from 'ava';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { randomBytes } from 'node:crypto';
import { bundleDeviceFirmware, DEVICE_MODULES } from '../../host/flash/device-bundle.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

function importsOf(code: string): string[] {
  return [...code.matchAll(/^import\s.*?from\s+"([^"]+)";$/gm)].map((m) => m[1]);
}

function provided(specifier: string): boolean {
  return DEVICE_MODULES.some((m) => (m.endsWith('*') ? specifier.startsWith(m.slice(0, -1)) : specifier === m));
}

for (const target of ['esp32', 'lin'] as const) {
  test.serial(`the ${target} bundle imports only device modules and never Math.random`, async (t) => {
    const file = await bundleDeviceFirmware(target);
    const code = readFileSync(file, 'utf8');
    const imports = importsOf(code);
    t.true(imports.includes('meterveil/random'));
    t.deepEqual(
      imports.filter((s) => !provided(s)),
      [],
    );
    t.false(code.includes('Math.random'));
    t.is(code.includes('H25_MILLI_KWH_HEX'), target === 'lin', 'the load profile ships only to the simulator');
  });
}

test.serial('the manifests are JSON and name files that exist', async (t) => {
  await bundleDeviceFirmware('esp32');
  await bundleDeviceFirmware('lin');
  for (const target of ['esp32', 'lin']) {
    const manifestPath = join(root, 'manifests', target, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    t.truthy(manifest.platforms[target]);
    for (const path of Object.values(manifest.modules) as string[]) {
      const base = resolve(dirname(manifestPath), path);
      t.true(existsSync(`${base}.js`), `${base}.js`);
    }
    t.true(existsSync(join(root, 'firmware/platform/moddable/native/random.c')));
    t.is(manifest.config.meterveilConfig, '');
  }
});

test('the device HMAC over the SDK digest interface equals HMAC-SHA256', async (t) => {
  const out = join(mkdtempSync(join(tmpdir(), 'meterveil-hmac-')), 'hmac.mjs');
  const result = await build({
    entryPoints: [join(root, 'firmware/platform/moddable/hmac.ts')],
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    alias: { crypt: join(root, 'test/firmware/helpers/node-crypt.ts') },
  });
  writeFileSync(out, result.outputFiles[0].text);
  const { nativeHmacSha256 } = (await import(pathToFileURL(out).href)) as { nativeHmacSha256: typeof hmacSha256 };
  for (const keyLength of [16, 32, 64, 65, 100]) {
    const key = new Uint8Array(randomBytes(keyLength));
    const message = new Uint8Array(randomBytes(600));
    t.deepEqual([...nativeHmacSha256(key, message)], [...hmacSha256(key, message)], `key of ${keyLength} bytes`);
  }
});
