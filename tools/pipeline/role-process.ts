/**
 * Runs a role as its own process through bin/meterveil.js, as an operator would, so it can be
 * killed with SIGKILL. Like the `start` supervisor, it learns over the IPC channel that the role is
 * ready or why it failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { onRoleMessage } from '../../host/cli/role-channel.ts';

const BIN = fileURLToPath(new URL('../../bin/meterveil.js', import.meta.url));

export class RoleProcess {
  readonly output: string[] = [];
  private child: ChildProcess | undefined;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  constructor(private readonly args: string[]) {}

  /** Starts the process and waits until it says it is ready. */
  start(timeoutMs = 30_000): Promise<void> {
    const child = spawn(process.execPath, [BIN, ...this.args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.args[0]} not ready:\n${this.output.join('')}`)), timeoutMs);
      let failure = '';
      onRoleMessage(child, (message) => {
        if (message.role === 'ready') {
          clearTimeout(timer);
          resolve();
        } else if (message.role === 'failed') failure = `: ${message.message}`;
      });
      child.stdout!.on('data', (c: Buffer) => this.output.push(c.toString()));
      child.stderr!.on('data', (c: Buffer) => this.output.push(c.toString()));
      child.once('close', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.args[0]} exited with ${code}${failure}:\n${this.output.join('')}`));
      });
    });
  }

  kill9(): Promise<void> {
    return this.signal('SIGKILL');
  }

  stop(): Promise<void> {
    return this.signal('SIGTERM');
  }

  private signal(signal: NodeJS.Signals): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      child.once('exit', () => resolve());
      child.kill(signal);
    });
  }
}
