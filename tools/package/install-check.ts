/**
 * Installs meterveil as a user would from its package, and runs it: `npm pack` (prepack builds
 * the CLI bundle and the dashboard), then `npm install -g` of the tarball into a temporary prefix
 * (from the npm cache where it can: --prefer-offline), then the installed `meterveil` in a
 * temporary folder, away from this checkout and its node_modules: --version, keygen, simulate,
 * and start with a small config on free ports until a group slot is decrypted and the dashboard
 * and the API answer. Prints how long the install took.
 *
 * The install builds better-sqlite3 and the XS engine from source (about two minutes of CPU; the
 * README's "Install as a package"), too much for `npm test`: .ci/run runs this once, before it.
 *   node --import tsx tools/package/install-check.ts [--keep] [--installed PREFIX]
 */
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_CSP } from '../../host/provider/dashboard-files.ts';
import { freePort } from '../pipeline/deployment.ts';

const root = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
/** The packages whose install scripts build what meterveil runs (package.json allowScripts). */
const ALLOW_SCRIPTS = '@agoric/xsnap,better-sqlite3,esbuild';
const START_TIMEOUT_MS = 180_000;

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`install check failed: ${what}`);
}

function run(command: string, args: string[], options: SpawnSyncOptions = {}): string {
  const started = process.hrtime.bigint();
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${r.status}:\n${r.stdout}\n${r.stderr}`);
  console.log(`ok  ${[command, ...args].join(' ')}  (${seconds.toFixed(1)} s)`);
  return String(r.stdout);
}

async function startUntilServing(meterveil: string, dir: string): Promise<void> {
  const [httpPort, brokerPort] = [await freePort(), await freePort()];
  const member = (i: number) => `m${i}`;
  const config = {
    dataDir: '.',
    broker: { url: `mqtt://127.0.0.1:${brokerPort}`, embedded: true },
    slotSeconds: 5,
    latenessSeconds: 5,
    skewSeconds: 2,
    tolerance: 0.05,
    packing: { readings: 1, maxPowerWatts: 23_000, maxGroupSize: 10 },
    http: { host: '127.0.0.1', port: httpPort },
    provider: { decryption: { mode: 'single' } },
    groups: [{ id: 'north', members: [1, 2, 3].map(member), feeder: 'feeder-north', k: 3 }],
  };
  writeFileSync(join(dir, 'meterveil.json'), JSON.stringify(config, null, 2));
  const child = spawn(meterveil, ['start', '-c', 'meterveil.json'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (b) => (output += b));
  child.stderr!.on('data', (b) => (output += b));
  const exited = new Promise<number | null>((r) => child.once('exit', r));
  // start logs JSON lines (pino) when its output is not a terminal: their messages.
  const messages = () =>
    output
      .split('\n')
      .map((line) => {
        try {
          return String(JSON.parse(line).msg);
        } catch {
          return line;
        }
      })
      .join('\n');
  try {
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (!/^slot \d+ .* north: 3\/3 meters/m.test(messages())) {
      check(child.exitCode === null, `meterveil start exited early:\n${output}`);
      check(Date.now() < deadline, `no decrypted slot within ${START_TIMEOUT_MS / 1000} s:\n${output}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    const base = `http://127.0.0.1:${httpPort}`;
    check(messages().includes(`dashboard: ${base}/`), `start prints the dashboard's address:\n${output}`);
    const page = await fetch(`${base}/`);
    check(page.status === 200 && page.headers.get('content-security-policy') === DASHBOARD_CSP, 'the dashboard page is served');
    check((await page.text()).includes('/dashboard.js'), 'the page loads its bundle');
    const bundle = await fetch(`${base}/dashboard.js`);
    check(bundle.status === 200 && (await bundle.text()).length > 10_000, 'the bundle, with uPlot, is served from the package');
    // The API answers a reader only: the token is in the printed address's fragment.
    const token = new RegExp(`dashboard: ${base}/#token=([A-Za-z0-9_-]{43})`).exec(messages())?.[1];
    check(token !== undefined, `start prints the dashboard's address with its token:\n${output}`);
    check((await fetch(`${base}/api/health`)).status === 401, 'the API refuses a request without a token');
    const health = (await (await fetch(`${base}/api/health`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
      status: string;
      decrypted: number;
    };
    check(health.status === 'ok' && health.decrypted >= 1, 'the API reports a decrypted slot');
    console.log(`ok  meterveil start: a decrypted slot, the dashboard and the API at ${base}/`);
  } finally {
    child.kill('SIGINT');
    await exited;
  }
  check(/^stopped$/m.test(messages()), `start stops on SIGINT:\n${output}`);
}

async function main(): Promise<void> {
  const keep = process.argv.includes('--keep');
  // An install made before (a prefix kept with --keep): only the runs.
  const at = process.argv.indexOf('--installed');
  const installed = at > 0 ? resolve(process.argv[at + 1]) : undefined;
  const work = mkdtempSync(join(tmpdir(), 'meterveil-install-'));
  try {
    const prefix = installed ?? join(work, 'prefix');
    if (!installed) {
      const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], { cwd: root }).trim().split('\n').at(-1)!;
      run(
        'npm',
        [
          'install',
          '-g',
          '--prefix',
          prefix,
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          `--allow-scripts=${ALLOW_SCRIPTS}`,
          join(work, tarball),
        ],
        { cwd: work },
      );
    }
    const meterveil = join(prefix, 'bin/meterveil');
    const dir = join(work, 'run');
    mkdirSync(dir);
    check(run(meterveil, ['--version'], { cwd: dir }).trim() === version, `meterveil --version prints ${version}`);
    run(meterveil, ['keygen', '--out', 'keys'], { cwd: dir });
    check(existsSync(join(dir, 'keys/public.json')) && existsSync(join(dir, 'keys/private.json')), 'keygen writes a key pair');
    const simulated = run(meterveil, ['simulate', '--meters', '2', '--hours', '1'], { cwd: dir });
    check(/acknowledged by the report sink: 8$/m.test(simulated), `simulate: two meters report four slots each:\n${simulated}`);
    await startUntilServing(meterveil, dir);
    console.log('the installed package works');
  } finally {
    if (keep) console.log(`kept ${work}`);
    else rmSync(work, { recursive: true, force: true });
  }
}

await main();
