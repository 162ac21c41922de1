/**
 * Runs each service role as a child process (bin/meterveil.js <role> --config FILE), writes its
 * output to a log file, passes the lines an operator watches to the console, and restarts a child
 * that dies unexpectedly: its durable state makes a restart lose nothing. A child says over its
 * IPC channel when it is ready and why it stopped (host/cli/role-channel.ts); log lines are only
 * shown, never parsed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MeterveilError } from '../../firmware/errors.ts';
import { onRoleMessage } from '../cli/role-channel.ts';
import { childEnvironment } from '../keys/passphrase.ts';
import { ensurePrivateFile, PRIVATE_FILE_MODE } from '../store/private-file.ts';

const BIN = fileURLToPath(new URL('../../bin/meterveil.js', import.meta.url));

export interface ChildRole {
  name: string;
  args: string[];
  /** Lines shown on the console (all lines go to the log file). */
  show: RegExp;
  /** The role opens a sealed key file: only such a role is given the passphrase. */
  unsealsKey?: boolean;
}

export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private readonly logs = new Map<string, WriteStream>();
  private stopping = false;

  /** passphrase: for the roles that unseal a key; every other child gets an environment without it. */
  constructor(
    private readonly logDir: string,
    private readonly print: (line: string) => void,
    private readonly passphrase?: string,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  start(role: ChildRole): Promise<void> {
    let log = this.logs.get(role.name);
    const logPath = join(this.logDir, `${role.name}.log`);
    if (!log) {
      ensurePrivateFile(logPath);
      this.logs.set(role.name, (log = createWriteStream(logPath, { flags: 'a', mode: PRIVATE_FILE_MODE })));
    }
    const env = childEnvironment(process.env, role.unsealsKey ? this.passphrase : undefined);
    const child = spawn(process.execPath, [BIN, ...role.args], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'], env });
    this.children.set(role.name, child);
    return new Promise((resolve, reject) => {
      let ready = false;
      let stoppedOnSignal = false;
      let failure: string | undefined;
      onRoleMessage(child, (message) => {
        if (message.role === 'ready') {
          ready = true;
          resolve();
        } else if (message.role === 'stopping') stoppedOnSignal = true;
        else failure = message.message;
      });
      // stderr is always shown (the custodian logs there).
      const lineReader = (always: boolean) => {
        let partial = '';
        return (chunk: Buffer) => {
          log!.write(chunk);
          const lines = (partial + chunk.toString()).split('\n');
          partial = lines.pop()!;
          for (const line of lines) {
            if (always) this.print(`${role.name}: ${line}`);
            else if (role.show.test(line)) this.print(line.replace(/^\S+Z /, ''));
          }
        };
      };
      child.stdout!.on('data', lineReader(false));
      child.stderr!.on('data', lineReader(true));
      // 'close', not 'exit': it comes after the last message on the channel.
      child.once('close', (code, signal) => {
        if (this.stopping) return;
        const why = (signal ? `signal ${signal}` : `code ${code}`) + (failure ? `: ${failure}` : '');
        if (!ready) return reject(new MeterveilError('role-exited', `${role.name} exited during start-up (${why}); see ${logPath}`));
        // A stop, not a crash: Ctrl-C in a terminal reaches the children too.
        if (stoppedOnSignal || code === 0) return this.print(`${role.name} stopped`);
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
