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
import { createHash, randomBytes } from 'node:crypto';
import { bundleDeviceFirmware, DEVICE_MODULES } from '../../host/flash/device-bundle.ts';
import { preloadScratchPlugin } from '../../host/flash/preload-scratch.ts';
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
    for (const [name, paths] of Object.entries(manifest.modules as Record<string, string | string[]>)) {
      // "~" lists SDK files the build leaves out (lin: the SDK's socket, replaced by manifests/lin/sdk/).
      if (name === '~') continue;
      for (const path of [paths].flat()) {
        const base = resolve(dirname(manifestPath), path);
        t.true(existsSync(`${base}.js`) || existsSync(`${base}.c`), base);
      }
    }
    t.true(existsSync(join(root, 'firmware/platform/moddable/native/random.c')));
    t.is(manifest.config.meterveilConfig, '');
    // Preloaded, the bundle's functions and constants live in flash, not in the board's 4,928 slots.
    t.deepEqual(manifest.preload, ['meterveil/random', 'main'], target);
  }
});

test('the lin build replaces the SDK lin socket with the copy whose messages hold their record', (t) => {
  const manifest = JSON.parse(readFileSync(join(root, 'manifests/lin/manifest.json'), 'utf8'));
  t.deepEqual(manifest.modules['~'], ['$(MODULES)/network/socket/lin/modSocket']);
  t.true(manifest.modules['*'].includes('./sdk/modSocket'));
  const source = readFileSync(join(root, 'manifests/lin/sdk/modSocket.c'), 'utf8');
  for (const handler of ['socketConnected', 'socketReadable', 'socketWritable']) {
    const body = source.slice(source.lastIndexOf(`void ${handler}(void *the`));
    t.regex(body.slice(0, body.indexOf('\n}\n')), /if \(xss->done\) \{[^}]*socketHandled\(xss\)/, handler);
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

test('the device bundles are ready to preload: no module-level scratch buffer, their start exported, their SHA-2 still right', async (t) => {
  for (const target of ['esp32', 'lin'] as const) {
    const code = readFileSync(await bundleDeviceFirmware(target), 'utf8');
    t.deepEqual(
      code.match(/^var \w+ = \/\* @__PURE__ \*\/ new Uint32Array\(\d+\);$/gm) ?? [],
      [],
      `${target}: a module-level buffer would be read-only in flash`,
    );
    t.regex(code, /^export \{\s*main as default\s*\};?$/m, `${target}: the SDK calls the default export after the preload`);
  }
  const out = join(mkdtempSync(join(tmpdir(), 'meterveil-sha2-')), 'sha2.mjs');
  const result = await build({
    stdin: { contents: "export { sha256, sha512 } from '@noble/hashes/sha2.js';", resolveDir: root },
    bundle: true,
    format: 'esm',
    platform: 'node',
    write: false,
    plugins: [preloadScratchPlugin],
  });
  t.notRegex(result.outputFiles[0].text, /^var SHA256_W = /m);
  writeFileSync(out, result.outputFiles[0].text);
  const { sha256, sha512 } = (await import(pathToFileURL(out).href)) as Record<'sha256' | 'sha512', (m: Uint8Array) => Uint8Array>;
  for (const length of [0, 55, 64, 600]) {
    const message = new Uint8Array(randomBytes(length));
    t.is(Buffer.from(sha256(message)).toString('hex'), createHash('sha256').update(message).digest('hex'), `sha256 of ${length} bytes`);
    t.is(Buffer.from(sha512(message)).toString('hex'), createHash('sha512').update(message).digest('hex'), `sha512 of ${length} bytes`);
  }
});

test('the device bundles keep no RegExp at module level: preloaded, XS would write its match state into flash', async (t) => {
  for (const target of ['esp32', 'lin'] as const) {
    const code = readFileSync(await bundleDeviceFirmware(target), 'utf8');
    t.deepEqual(code.match(/^var [\w$]+ = \/.*\/[a-z]*;$/gm) ?? [], [], target);
  }
});
