/**
 * Runs each service role as a child process (bin/meterveil.js <role> --config FILE), writes its
 * output to a log file, passes the lines an operator watches to the console, and restarts a child
 * that dies unexpectedly: its durable state makes a restart lose nothing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MeterveilError } from '../../firmware/errors.ts';

const BIN = fileURLToPath(new URL('../../bin/meterveil.js', import.meta.url));

export interface ChildRole {
  name: string;
  args: string[];
  ready: RegExp;
  /** Lines shown on the console (all lines go to the log file). */
  show: RegExp;
}

export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private readonly logs = new Map<string, WriteStream>();
  private stopping = false;

  constructor(
    private readonly logDir: string,
    private readonly print: (line: string) => void,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  start(role: ChildRole): Promise<void> {
    let log = this.logs.get(role.name);
    if (!log) this.logs.set(role.name, (log = createWriteStream(join(this.logDir, `${role.name}.log`), { flags: 'a' })));
    const child = spawn(process.execPath, [BIN, ...role.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.set(role.name, child);
    return new Promise((resolve, reject) => {
      let ready = false;
      // A role may announce readiness on either stream (the custodian logs to stderr); stderr is always shown.
      const lineReader = (always: boolean) => {
        let partial = '';
        return (chunk: Buffer) => {
          log!.write(chunk);
          const lines = (partial + chunk.toString()).split('\n');
          partial = lines.pop()!;
          for (const line of lines) {
            if (!ready && role.ready.test(line)) {
              ready = true;
              resolve();
            }
            if (always) this.print(`${role.name}: ${line}`);
            else if (role.show.test(line)) this.print(line.replace(/^\S+Z /, ''));
          }
        };
      };
      child.stdout!.on('data', lineReader(false));
      child.stderr!.on('data', lineReader(true));
      child.once('exit', (code, signal) => {
        if (this.stopping) return;
        const why = signal ? `signal ${signal}` : `code ${code}`;
        if (!ready)
          return reject(
            new MeterveilError('role-exited', `${role.name} exited during start-up (${why}); see ${join(this.logDir, `${role.name}.log`)}`),
          );
        // A clean exit is a stop, not a crash: Ctrl-C in a terminal reaches the children too.
        if (code === 0) return this.print(`${role.name} stopped`);
        this.print(`${role.name} exited (${why}); restarting`);
        setTimeout(() => {
          if (!this.stopping) this.start(role).catch((e) => this.print((e as Error).message));
        }, 1000);
      });
    });
  }

  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.children.values()].map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
            child.once('exit', () => {
              clearTimeout(force);
              resolve();
            });
            child.kill('SIGTERM');
          }),
      ),
    );
    await Promise.all([...this.logs.values()].map((log) => new Promise<void>((resolve) => log.end(() => resolve()))));
  }
}
