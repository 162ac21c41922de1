/**
 * Runs each service role as a child process (bin/meterveil.js <role> --config FILE), writes its
 * output (JSON log lines) to a log file, passes the lines an operator watches on, and restarts a
 * child that dies unexpectedly: its durable state makes a restart lose nothing. A child says over
 * its IPC channel when it is ready and why it stopped (host/cli/role-channel.ts); a log line is
 * read only to choose whether to show it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MeterveilError } from '../../firmware/errors.ts';
import { onRoleMessage } from '../cli/role-channel.ts';
import { childEnvironment } from '../keys/passphrase.ts';
import { ensurePrivateFile, PRIVATE_FILE_MODE } from '../store/private-file.ts';
import type { RoleLog } from '../log/logger.ts';
import { parseLogLine, type LogRecord } from '../log/pretty.ts';

const BIN = fileURLToPath(new URL('../../bin/meterveil.js', import.meta.url));

export interface ChildRole {
  name: string;
  args: string[];
  /** Messages shown on the console, besides warnings and errors (all lines go to the log file). */
  show: RegExp;
  /** The role opens a sealed key file: only such a role is given the passphrase. */
  unsealsKey?: boolean;
}

export interface SupervisorOutput {
  /** The supervisor's own events, and what a child writes on stderr. */
  log: RoleLog;
  /** A child's log line that is shown: the line as it came, and its record. */
  forward(line: string, record: LogRecord): void;
}

const SHOWN_LEVELS = new Set(['warn', 'error', 'fatal']);

export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private readonly logs = new Map<string, WriteStream>();
  private stopping = false;

  /** passphrase: for the roles that unseal a key; every other child gets an environment without it. */
  constructor(
    private readonly logDir: string,
    private readonly out: SupervisorOutput,
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
      // stderr is always shown: a role writes there only why its command failed.
      const lineReader = (always: boolean) => {
        let partial = '';
        return (chunk: Buffer) => {
          log!.write(chunk);
          const lines = (partial + chunk.toString()).split('\n');
          partial = lines.pop()!;
          for (const line of lines) {
            if (always) {
              this.out.log.warn({ child: role.name }, `${role.name}: ${line}`);
              continue;
            }
            const parsed = parseLogLine(line);
            // A line that is not one of the role's log records (none should be) is passed on as one.
            const record = parsed ?? { level: 'info', role: role.name, msg: line };
            if (SHOWN_LEVELS.has(String(record.level)) || role.show.test(record.msg ?? ''))
              this.out.forward(parsed ? line : JSON.stringify(record), record);
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
        if (stoppedOnSignal || code === 0) return this.out.log.info({ child: role.name }, `${role.name} stopped`);
        this.out.log.warn({ child: role.name }, `${role.name} exited (${why}); restarting`);
        setTimeout(() => {
          if (!this.stopping) this.start(role).catch((e) => this.out.log.error({ child: role.name }, (e as Error).message));
        }, 1000);
      });
    });
  }

  /** The process id of a running child, by name: for measuring its CPU and memory. */
  pid(name: string): number | undefined {
    return this.children.get(name)?.pid;
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
