/**
 * Runs the `meterveil` command as a user would, and returns its exit code and output whether it
 * succeeded or not: trimmed, or as printed (`exact`) for tests that check its line endings.
 */
import { execFile } from 'node:child_process';
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
