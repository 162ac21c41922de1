/**
 * Builds the Espruino meter into one ES5 script per entry: `npm run build:espruino` writes
 * build/espruino/meterveil.js (firmware/platform/espruino/main.ts, every sensor with the simulated
 * household: the Linux build, the sandboxed tests; minified), build/espruino/meterveil.debug.js (the
 * same, readable) and build/espruino/meterveil-board.js (main-board.ts: a board's sensors only).
 *
 * 1. esbuild bundles the TypeScript into one script (it cannot lower to ES5, so it only bundles,
 *    and refuses any BigInt literal); firmware/text.ts is replaced by the Espruino one.
 * 2. TypeScript's own compiler lowers it to ES5 (classes, arrows, spread, destructuring, template
 *    literals, let/const; `for...of` over arrays only), its helpers left to the prelude.
 * 3. The prelude (helpers, polyfills, the module loader) goes in front; esbuild minifies the
 *    whole as ES5 for the board's copy.
 * 4. hoist.ts moves every scope's function declarations and vars to its top: Espruino does not hoist.
 * 5. check.ts refuses anything Espruino would not run: not ES5, labels, missing globals or statics.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, transform, type Plugin } from 'esbuild';
import ts from 'typescript';
import { checkEspruinoBundle } from './check.ts';
import { hoistForEspruino } from './hoist.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ESPRUINO_ENTRY = join(ROOT, 'firmware/platform/espruino/main.ts');
export const ESPRUINO_BOARD_ENTRY = join(ROOT, 'firmware/platform/espruino/main-board.ts');
export const ESPRUINO_PRELUDE = join(ROOT, 'firmware/platform/espruino/prelude.js');
export const ESPRUINO_OUT_DIR = join(ROOT, 'build/espruino');

/**
 * firmware/text.ts uses TextEncoder and TextDecoder, which Espruino lacks: the Espruino one takes
 * its place. And firmware modules only define things when they load (the entry aside), so what
 * the meter does not use is left out even where a module reads a global at its top (the Paillier
 * arithmetic's `BigInt.fromArrayBuffer`, which Espruino would not have).
 */
const espruinoModules: Plugin = {
  name: 'espruino-modules',
  setup(b) {
    b.onResolve({ filter: /\.ts$/ }, (args) => {
      if (args.kind === 'entry-point') return undefined;
      let path = resolve(args.resolveDir, args.path);
      if (path === join(ROOT, 'firmware/text.ts')) path = join(ROOT, 'firmware/platform/espruino/text.ts');
      return path.startsWith(join(ROOT, 'firmware') + '/') ? { path, sideEffects: false } : undefined;
    });
  },
};

export interface EspruinoBundle {
  /** Every sensor, the simulated household among them (the Linux build, the sandboxed tests), minified. */
  code: string;
  /** The same, readable. */
  debug: string;
  /** For boards: the CT clamp and the PZEM-004T only, minified (main-board.ts). */
  board: string;
}

function lowerToEs5(code: string): string {
  const out = ts.transpileModule(code, {
    fileName: 'meterveil.js',
    reportDiagnostics: true,
    compilerOptions: {
      target: ts.ScriptTarget.ES5,
      // The input is one script with no import or export: no module code is emitted.
      module: ts.ModuleKind.CommonJS,
      allowJs: true,
      noEmitHelpers: true,
      removeComments: true,
      // TypeScript 6 deprecates the ES5 target (it still lowers to it): the only ES5 compiler at hand.
      ignoreDeprecations: '6.0',
    },
  });
  const errors = (out.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
  if (errors.length > 0) throw new Error(`lowering to ES5 failed:\n${errors.join('\n')}`);
  return out.outputText;
}

function finish(script: string, what: string): string {
  const hoisted = hoistForEspruino(script);
  const problems = checkEspruinoBundle(hoisted);
  if (problems.length > 0) throw new Error(`the ${what} Espruino bundle would not run on Espruino:\n${problems.join('\n')}`);
  return hoisted;
}

/** One entry to ES5: bundled, lowered, behind the prelude; the readable text and the minified one. */
async function es5Of(entry: string): Promise<{ readable: string; minified: string }> {
  const bundled = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    supported: { bigint: false },
    legalComments: 'none',
    plugins: [espruinoModules],
    logLevel: 'silent',
  });
  const readable = readFileSync(ESPRUINO_PRELUDE, 'utf8') + lowerToEs5(bundled.outputFiles[0].text);
  const minified = await transform(readable, { target: 'es5', minify: true, legalComments: 'none' });
  return { readable, minified: minified.code };
}

/** One of the two, minified and checked: what a test runs when it needs only that one (half the build's time). */
export async function buildEspruinoScript(which: 'linux' | 'board'): Promise<string> {
  const { minified } = await es5Of(which === 'linux' ? ESPRUINO_ENTRY : ESPRUINO_BOARD_ENTRY);
  return finish(minified, which);
}

export async function buildEspruinoBundle(): Promise<EspruinoBundle> {
  const [all, board] = await Promise.all([es5Of(ESPRUINO_ENTRY), es5Of(ESPRUINO_BOARD_ENTRY)]);
  return { code: finish(all.minified, 'minified'), debug: finish(all.readable, 'readable'), board: finish(board.minified, 'board') };
}

async function main(): Promise<void> {
  const bundle = await buildEspruinoBundle();
  mkdirSync(ESPRUINO_OUT_DIR, { recursive: true });
  writeFileSync(join(ESPRUINO_OUT_DIR, 'meterveil.js'), bundle.code);
  writeFileSync(join(ESPRUINO_OUT_DIR, 'meterveil.debug.js'), bundle.debug);
  writeFileSync(join(ESPRUINO_OUT_DIR, 'meterveil-board.js'), bundle.board);
  const bytes = (text: string) => Buffer.byteLength(text);
  console.log(
    `build/espruino/meterveil.js: ${bytes(bundle.code)} bytes (readable copy meterveil.debug.js: ${bytes(bundle.debug)} bytes); for boards without the simulated household, meterveil-board.js: ${bytes(bundle.board)} bytes`,
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
