/** Runs a role as its own process through bin/meterveil.js, as an operator would, so it can be killed with SIGKILL. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/meterveil.js', import.meta.url));

export class RoleProcess {
  readonly output: string[] = [];
  private child: ChildProcess | undefined;

  get pid(): number | undefined {
    return this.child?.pid;
  }

  constructor(private readonly args: string[]) {}

  /** Starts the process and waits for a line matching `ready`. */
  start(ready: RegExp, timeoutMs = 30_000): Promise<string> {
    const child = spawn(process.execPath, [BIN, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.args[0]} not ready:\n${this.output.join('')}`)), timeoutMs);
      const onData = (chunk: Buffer) => {
        const text = chunk.toString();
        this.output.push(text);
        const match = ready.exec(text);
        if (match) {
          clearTimeout(timer);
          resolve(match[0]);
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', (c: Buffer) => this.output.push(c.toString()));
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.args[0]} exited with ${code}:\n${this.output.join('')}`));
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
