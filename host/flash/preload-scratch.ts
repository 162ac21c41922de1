/**
 * The device firmware is preloaded: the SDK evaluates the bundle when it links the firmware and
 * keeps what the modules made in flash, read-only. @noble/hashes' SHA-2 keeps its message
 * schedules in module-level Uint32Arrays and writes them in every block, which in flash fails
 * ("read-only buffer"). This esbuild plugin rewrites those buffers into ones allocated in RAM on
 * first use, and fails the bundle when the file no longer has the shape it rewrites.
 */
import { readFile } from 'node:fs/promises';
import type { Plugin } from 'esbuild';

const SCRATCH = /^const (\w+) = \/\* @__PURE__ \*\/ new Uint32Array\((\d+)\);$/gm;
const METHOD = /^(\s+)(?:process\(view, offset\)|roundClean\(\)) \{$/;

/** The source with each scratch buffer made on first use inside the methods that write it. */
export function moveScratchToRam(source: string, file: string): string {
  const names: string[] = [];
  let text = source.replace(SCRATCH, (_line, name: string, length: string) => {
    names.push(name);
    return `let ${name}_ram;\nconst ${name}_of = () => (${name}_ram ??= new Uint32Array(${length}));`;
  });
  if (names.length === 0) throw new Error(`${file}: no module-level scratch buffer found; the preload rewrite needs updating`);
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    out.push(lines[i]);
    const method = METHOD.exec(lines[i]);
    if (!method) continue;
    const end = lines.indexOf(`${method[1]}}`, i);
    const body = lines
      .slice(i + 1, end)
      .filter((line) => !line.trim().startsWith('//'))
      .join('\n');
    for (const name of names) if (new RegExp(`\\b${name}\\b`).test(body)) out.push(`${method[1]}  const ${name} = ${name}_of();`);
  }
  text = out.join('\n');
  for (const name of names)
    if (!text.includes(`const ${name} = ${name}_of();`)) throw new Error(`${file}: no method the preload rewrite knows writes ${name}`);
  return text;
}

export const preloadScratchPlugin: Plugin = {
  name: 'preload-scratch',
  setup(build) {
    build.onLoad({ filter: /@noble[\\/]hashes[\\/](esm[\\/])?sha2\.js$/ }, async (args) => ({
      contents: moveScratchToRam(await readFile(args.path, 'utf8'), args.path),
      loader: 'js',
    }));
  },
};
