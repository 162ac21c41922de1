/**
 * Bundles the device firmware for mcconfig: one ES module per target (esp32, lin) under
 * build/moddable/<target>/main.js, with the portable firmware and @noble/hashes inlined and the
 * SDK's modules left as imports. mcconfig compiles the result with the modules the manifests
 * list. `meterveil flash` runs it before mcconfig; so does `npm run bundle:device`.
 */
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { preloadScratchPlugin } from './preload-scratch.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** Modules the SDK (or meterveil's native module) provides on the device. */
export const DEVICE_MODULES = [
  'timer',
  'preference',
  'file',
  'flash',
  'instrumentation',
  'debug',
  'mqtt',
  'securesocket',
  'mc/config',
  'base64',
  'crypt',
  'text/encoder',
  'text/decoder',
  'meterveil/random',
  'embedded:*',
];

export async function bundleDeviceFirmware(target: 'esp32' | 'lin'): Promise<string> {
  const outfile = `${root}build/moddable/${target}/main.js`;
  await build({
    entryPoints: [`${root}firmware/platform/moddable/main-${target}.ts`],
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    external: DEVICE_MODULES,
    outfile,
    logLevel: 'warning',
    plugins: [preloadScratchPlugin],
  });
  return outfile;
}
