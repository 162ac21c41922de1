/**
 * A broker that runs as its own program (mosquitto, nats-server): started with its config, ready
 * once every listener accepts connections, watched for an exit it was not asked for.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fail } from '../../firmware/errors.ts';
import type { Reason } from '../../firmware/errors.ts';

export interface RunningChildBroker {
  /** The addresses it listens on, as `host:port` (`*` for every interface). */
  listeners: string[];
  /** The broker's process, for measuring its CPU and memory. */
  pid: number | undefined;
  stop(): Promise<void>;
  /** Ends it at once (SIGKILL), as a machine that goes away: nothing is saved on the way out. */
  kill(): Promise<void>;
  /** Settles when the broker exits by itself; rejects with the `exited` reason and its last words. */
  exited: Promise<never>;
}

export interface ChildBrokerSpec {
  command: string;
  args: string[];
  listeners: { host: string; port: number }[];
  /** Each line the broker writes on stderr. */
  log: (line: string) => void;
  /** Why the command could not run at all, and why it stopped. */
  unavailable: { reason: Reason; message: string };
  exitedReason: Reason;
  startTimeoutMs: number;
}

function acceptsConnections(port: number, host: string): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, host === '*' ? '127.0.0.1' : host);
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

export async function runChildBroker(spec: ChildBrokerSpec): Promise<RunningChildBroker> {
  const { command, listeners } = spec;
  const child = spawn(command, spec.args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let lastWords = '';
  let stopping = false;
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    for (const line of text.split('\n').filter(Boolean)) {
      lastWords = line;
      spec.log(`${command}: ${line}`);
    }
  });
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (e) => reject(e));
    child.once('exit', (code, signal) => {
      if (!stopping) reject(new Error(`${command} exited (${signal ?? `code ${code}`}): ${lastWords}`));
    });
  }).catch((e: Error & { code?: string }) =>
    e.code === 'ENOENT' ? fail(spec.unavailable.reason, spec.unavailable.message) : fail(spec.exitedReason, e.message),
  );
  // Until it listens, an early exit is the answer; afterwards the caller watches `exited`.
  exited.catch(() => undefined);

  const deadline = Date.now() + spec.startTimeoutMs;
  for (;;) {
    const listening = await Promise.race([
      Promise.all(listeners.map((l) => acceptsConnections(l.port, l.host))).then((all) => all.every(Boolean)),
      exited,
    ]);
    if (listening) break;
    if (Date.now() > deadline) {
      stopping = true;
      child.kill('SIGTERM');
      fail(
        spec.exitedReason,
        `${command} did not listen on ${listeners.map((l) => `${l.host}:${l.port}`).join(', ')} within ${spec.startTimeoutMs} ms`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const gone = new Promise((r) => child.once('exit', r));
    stopping = true;
    child.kill(signal);
    await gone;
  };
  return {
    listeners: listeners.map((l) => `${l.host}:${l.port}`),
    pid: child.pid,
    exited,
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}
