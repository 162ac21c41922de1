/**
 * Builds the dashboard (host/dashboard/) into build/dashboard/: index.html, one script with uPlot
 * in it, one style sheet. Nothing is fetched from elsewhere at run time, so the page works
 * offline. Run before the tests (pretest), at pack time (prepack) and before `npm start`.
 */
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const source = join(root, 'host/dashboard');
export const DASHBOARD_BUILD_DIR = join(root, 'build/dashboard');

export async function buildDashboard(outDir = DASHBOARD_BUILD_DIR): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await build({
    entryPoints: { dashboard: join(source, 'main.ts') },
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    minify: true,
    legalComments: 'eof',
    outdir: outDir,
    logLevel: 'warning',
    absWorkingDir: root,
  });
  copyFileSync(join(source, 'index.html'), join(outDir, 'index.html'));
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildDashboard();
