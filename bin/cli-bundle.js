// The CLI's TypeScript compiled once into one ES module, build/cli/main.mjs, and compiled again
// only when one of its input files changed. tsx compiling every module on each start cost about
// half a second of CPU per command; every role of `start` and every meter tool is such a command.
//
// The bundle sits two folders below the repository root, as the modules in host/<area>/ do, so
// the paths they resolve from import.meta.url ('../../package.json', '../../firmware/...') are
// the same in the bundle as in the source.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const entry = join(root, 'host/cli/main.ts');
const bundlePath = join(root, 'build/cli/main.mjs');
// Each input's modification time, size and content hash when the bundle was built, by path from
// the root. Time and size are compared first; a file whose time moved but whose size did not is
// compared by its hash: npm pack gives every file of a package the same time, and an installed
// package must not rebuild (or, read-only, fall back to tsx) for that.
const inputsPath = join(root, 'build/cli/inputs.json');

function fingerprint(path) {
  const stats = statSync(join(root, path));
  return { mtimeMs: stats.mtimeMs, size: stats.size };
}

function digest(path) {
  return createHash('sha256')
    .update(readFileSync(join(root, path)))
    .digest('base64');
}

function unchanged(path, recorded) {
  const now = fingerprint(path);
  return now.size === recorded.size && (now.mtimeMs === recorded.mtimeMs || digest(path) === recorded.sha256);
}

function isFresh() {
  let recorded;
  try {
    recorded = JSON.parse(readFileSync(inputsPath, 'utf8'));
    statSync(bundlePath);
  } catch {
    return false;
  }
  try {
    // A new source file can only enter the bundle through an edit to one already in it.
    return Object.entries(recorded).every(([path, print]) => unchanged(path, print));
  } catch {
    return false;
  }
}

async function rebuild() {
  const { build } = await import('esbuild');
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: root,
    outfile: bundlePath,
  });
  const inputs = {};
  for (const path of Object.keys(result.metafile.inputs)) inputs[path] = { ...fingerprint(path), sha256: digest(path) };
  mkdirSync(dirname(bundlePath), { recursive: true });
  // Commands started together may rebuild together: each writes its own files and renames them
  // into place, so none reads a half-written bundle. The inputs list goes last, so a bundle is
  // only called fresh once it is complete.
  const unique = `${process.pid}.${Date.now()}`;
  for (const file of result.outputFiles) {
    writeFileSync(`${file.path}.${unique}`, file.contents);
    renameSync(`${file.path}.${unique}`, file.path);
  }
  writeFileSync(`${inputsPath}.${unique}`, JSON.stringify(inputs));
  renameSync(`${inputsPath}.${unique}`, inputsPath);
}

/**
 * The URL of a fresh CLI bundle, or undefined where none can be written (a read-only install):
 * the caller then runs the TypeScript through tsx.
 */
export async function cliBundle() {
  if (isFresh()) return pathToFileURL(bundlePath).href;
  try {
    await rebuild();
    return pathToFileURL(bundlePath).href;
  } catch {
    return undefined;
  }
}
