/**
 * Runs the `meterveil` command as a user would: to its end (runCli), with its exit code and output
 * whether it succeeded or not, trimmed or as printed (`exact`) for tests that check its line
 * endings; or in the background (startCli), for a command that runs until it is stopped.
 */
import type { ExecutionContext } from 'ava';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);
const bin = new URL('../../bin/meterveil.js', import.meta.url).pathname;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; exact?: boolean } = {},
): Promise<CliResult> {
  const text = (s: string) => (options.exact ? s : s.trim());
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], {
      env: { ...process.env, ...options.env },
      ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}),
    });
    return { code: 0, stdout: text(stdout), stderr: text(stderr) };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: text(err.stdout), stderr: text(err.stderr) };
  }
}

export interface RunningCli {
  /** Everything it printed so far, stdout and stderr interleaved as they came. */
  readonly output: string;
  /** Its exit code (null when ended by a signal). */
  readonly exit: Promise<number | null>;
  signal(name: NodeJS.Signals): void;
}

/** Starts `meterveil ARGS` in `cwd`; it is killed at the test's teardown if still running. */
export function startCli(t: ExecutionContext, args: readonly string[], options: { cwd: string }): RunningCli {
  const child = spawn(process.execPath, [bin, ...args], { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    get output() {
      return output;
    },
    exit,
    signal: (name) => child.kill(name),
  };
}
