#!/usr/bin/env node
// The CLI is TypeScript. It runs from a bundle compiled on first use and after every change to
// its sources (bin/cli-bundle.js); where no bundle can be written, tsx compiles it on load.
import { cliBundle } from './cli-bundle.js';

process.setSourceMapsEnabled(true);
const bundle = await cliBundle();
if (bundle) {
  await import(bundle);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../host/cli/main.ts');
}
