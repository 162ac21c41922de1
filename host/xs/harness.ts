/**
 * Runs portable TypeScript inside the real XS engine (the engine of the Moddable SDK), built by
 * `@agoric/xsnap` as `xsnap-worker`, and talks to it from Node. Used by the XS tests, the
 * benchmark and the fleet simulation.
 *
 * API (Node side):
 *   bundle(entry)                      -> Promise<string>: esbuild IIFE bundle of a .ts entry
 *                                         (platform neutral, es2022), memoised by file contents.
 *   startXsWorker({ bundle, handleCommand?, meteringLimit = 0, onOutput? }) -> Promise<XsWorker>
 *     worker.issue(command)            -> Promise<reply>: JSON command to XS, JSON reply back.
 *                                         A command that throws in XS rejects with XsCommandError
 *                                         (`reason` carries a MeterveilError's reason).
 *     worker.computrons                -> computrons (XS metering units) of the last issue().
 *     worker.liveSlots()               -> Promise<number>: gc() then XS's currentHeapCount.
 *     worker.evaluate(code)            -> Promise<void>: run a script (no import/export).
 *     worker.close()                   -> Promise<void>: end the worker process.
 *   handleCommand(command) answers commands that XS sends with callHost(); it may be async
 *   (XS blocks until the answer arrives).
 *   meteringLimit: computrons allowed per issue(); 0 means no limit (one 2048-bit modexp
 *   already exceeds xsnap's own default). Exceeding it ends the worker ("too much computation").
 *
 * API (XS side, import from firmware/platform/xs-sim/xs-side.ts in the entry): serveCommands(handler) and
 * callHost(command). See that file.
 *
 * The worker is driven directly over its netstring pipes (fd 3: to XS, fd 4: from XS) instead of
 * through @agoric/xsnap's JavaScript wrapper: that wrapper needs `@endo/init`, which locks down the
 * whole Node process, and the benchmark and simulations must share a process with ordinary code.
 * Messages to XS: `e<script>` evaluate, `?<bytes>` command; from XS: `.<meter json>\x01<reply>`
 * done, `!<text>` uncaught exception, `?<bytes>` command for the host (answered with `/<bytes>`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Readable, Writable } from 'node:stream';
import { build } from 'esbuild';
import { fail, MeterveilError } from '../../firmware/errors.ts';

const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** The engine @agoric/xsnap's install script builds, wherever npm put the package: nested in an installed meterveil, or hoisted. */
export const XSNAP_WORKER_PATH = resolve(
  dirname(createRequire(import.meta.url).resolve('@agoric/xsnap/package.json')),
  'xsnap-native/xsnap/build/bin/lin/release/xsnap-worker',
);

/** Fails (never skips) when the engine was not built, with the command that builds it. */
export function assertXsnapWorkerPresent(workerPath = XSNAP_WORKER_PATH): void {
  if (process.platform !== 'linux') {
    fail('xs-unavailable', `the XS harness runs the Linux xsnap-worker; this is ${process.platform}`);
  }
  if (!existsSync(workerPath)) {
    fail(
      'xs-unavailable',
      `XS engine not built: ${workerPath} is missing. ` +
        'Run `npm rebuild @agoric/xsnap` (needs make and cc), or `npm ci` without --ignore-scripts.',
    );
  }
}

interface CachedBundle {
  inputs: Map<string, string>;
  code: string;
}

const bundleCache = new Map<string, CachedBundle>();

function contentHash(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

function inputsUnchanged(inputs: Map<string, string>): boolean {
  for (const [path, hash] of inputs) {
    if (!existsSync(path) || contentHash(path) !== hash) return false;
  }
  return true;
}

/** esbuild IIFE bundle of a TypeScript entry; rebuilt only when one of its input files changed. */
export async function bundle(entry: string): Promise<string> {
  const entryPath = resolve(entry);
  const cached = bundleCache.get(entryPath);
  if (cached && inputsUnchanged(cached.inputs)) return cached.code;

  const result = await build({
    entryPoints: [entryPath],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'neutral',
    target: 'es2022',
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: repositoryRoot,
  });
  const code = result.outputFiles[0].text;
  const inputs = new Map<string, string>();
  for (const input of Object.keys(result.metafile.inputs)) {
    const path = resolve(repositoryRoot, input);
    inputs.set(path, contentHash(path));
  }
  bundleCache.set(entryPath, { inputs, code });
  return code;
}

export class XsCommandError extends Error {
  readonly reason: string | undefined;

  constructor(message: string, reason?: string) {
    super(message);
    this.name = 'XsCommandError';
    this.reason = reason;
  }
}

export interface XsWorkerOptions {
  /** Script evaluated once at start (typically the result of bundle()). */
  bundle: string;
  /** Answers callHost(command) from XS. Default: refuses every command. */
  handleCommand?: (command: any) => unknown;
  /** Computrons allowed per call; 0 = unlimited. */
  meteringLimit?: number;
  /** Receives the worker's stdout (XS `print`) and stderr. Default: forwarded to process.stderr. */
  onOutput?: (text: string) => void;
}

export interface XsWorker {
  issue<Reply = any>(command: unknown): Promise<Reply>;
  evaluate(code: string): Promise<void>;
  /** Computrons of the last issue() or evaluate(). */
  readonly computrons: number;
  liveSlots(): Promise<number>;
  close(): Promise<void>;
}

interface MeterUsage {
  compute: number;
  currentHeapCount: number;
}

interface DoneMessage {
  reply: Buffer;
  meter: MeterUsage;
}

/** Splits a byte stream into netstrings (`<length>:<bytes>,`). */
class NetstringReader {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: Array<(message: Buffer | null) => void> = [];
  private readonly queued: Array<Buffer | null> = [];

  constructor(stream: Readable) {
    stream.on('data', (chunk: Buffer) => this.push(chunk));
    stream.on('end', () => this.deliver(null));
    stream.on('error', () => this.deliver(null));
  }

  next(): Promise<Buffer | null> {
    if (this.queued.length > 0) return Promise.resolve(this.queued.shift()!);
    return new Promise((resolveNext) => this.waiting.push(resolveNext));
  }

  private push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const colon = this.buffer.indexOf(0x3a);
      if (colon < 0) return;
      const length = Number(this.buffer.subarray(0, colon).toString('latin1'));
      if (!Number.isSafeInteger(length)) throw new Error('xsnap protocol error: bad netstring length');
      const end = colon + 1 + length;
      if (this.buffer.length < end + 1) return;
      if (this.buffer[end] !== 0x2c) throw new Error('xsnap protocol error: bad netstring trailer');
      this.deliver(Buffer.from(this.buffer.subarray(colon + 1, end)));
      this.buffer = this.buffer.subarray(end + 1);
    }
  }

  private deliver(message: Buffer | null): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(message);
    else this.queued.push(message);
  }
}

function netstring(prefix: string, body: Uint8Array | string): Buffer {
  const payload = Buffer.concat([Buffer.from(prefix, 'latin1'), Buffer.from(body)]);
  return Buffer.concat([Buffer.from(`${payload.length}:`, 'latin1'), payload, Buffer.from(',')]);
}

const EXIT_REASONS: Record<number, string> = {
  1: 'bad argument usage',
  2: 'I/O error',
  11: 'not enough memory',
  12: 'stack overflow',
  15: 'unhandled exception',
  16: 'property (key) name space exhausted',
  17: 'too much computation (metering limit reached)',
};

function refuseCommand(command: unknown): never {
  throw new Error(`no host command handler for ${JSON.stringify(command)}`);
}

export async function startXsWorker(options: XsWorkerOptions): Promise<XsWorker> {
  assertXsnapWorkerPresent();
  const { handleCommand = refuseCommand, meteringLimit = 0 } = options;
  const onOutput = options.onOutput ?? ((text: string) => process.stderr.write(text));

  const args = ['meterveil-xs'];
  if (meteringLimit > 0) args.push('-l', String(meteringLimit));
  const child: ChildProcess = spawn(XSNAP_WORKER_PATH, args, {
    stdio: ['ignore', 'pipe', 'pipe', 'pipe', 'pipe', 'ignore', 'ignore', 'ignore', 'ignore'],
  });
  child.stdout!.on('data', (chunk: Buffer) => onOutput(chunk.toString('utf8')));
  child.stderr!.on('data', (chunk: Buffer) => onOutput(chunk.toString('utf8')));
  const toXs = child.stdio[3] as Writable;
  const fromXs = new NetstringReader(child.stdio[4] as Readable);
  // A worker that dies (e.g. Ctrl-C reaching the whole process group) resets its pipes; its exit
  // is reported through `exited`, so a pipe error must not become an uncaught exception.
  for (const stream of [child.stdout!, child.stderr!, toXs]) stream.on('error', () => {});

  let exitDescription: string | undefined;
  const exited = new Promise<void>((resolveExit) => {
    child.once('exit', (code, signal) => {
      exitDescription = signal
        ? `signal ${signal}`
        : `code ${code}${code !== null && EXIT_REASONS[code] ? ` (${EXIT_REASONS[code]})` : ''}`;
      resolveExit();
    });
  });
  child.once('error', (error) => {
    exitDescription = `spawn failed: ${error.message}`;
  });

  let computrons = 0;
  let closed = false;
  // One request at a time: the worker answers strictly in order.
  let queue: Promise<unknown> = Promise.resolve();

  async function runToIdle(): Promise<DoneMessage> {
    for (;;) {
      const message = await fromXs.next();
      if (message === null) {
        await exited;
        throw new Error(`xsnap-worker ended: ${exitDescription ?? 'pipe closed'}`);
      }
      const kind = message[0];
      if (kind === 0x2e /* . */) {
        const separator = message.indexOf(1, 1);
        const meter = JSON.parse(message.subarray(1, separator).toString('utf8')) as MeterUsage;
        return { reply: message.subarray(separator + 1), meter };
      }
      if (kind === 0x21 /* ! */) {
        throw new XsCommandError(`uncaught exception in XS: ${message.subarray(1).toString('utf8')}`);
      }
      if (kind === 0x3f /* ? */) {
        let answer: unknown;
        try {
          answer = { ok: await handleCommand(JSON.parse(message.subarray(1).toString('utf8'))) };
        } catch (error) {
          answer = { error: { message: (error as Error).message, reason: error instanceof MeterveilError ? error.reason : undefined } };
        }
        toXs.write(netstring('/', JSON.stringify(answer ?? { ok: null })));
        continue;
      }
      child.kill();
      throw new Error(`xsnap protocol error: unexpected message ${message.subarray(0, 40).toString()}`);
    }
  }

  function send(prefix: string, body: string): Promise<DoneMessage> {
    const result = queue.then(async () => {
      if (closed) throw new Error('XS worker is closed');
      if (exitDescription) throw new Error(`xsnap-worker ended: ${exitDescription}`);
      toXs.write(netstring(prefix, body));
      const done = await runToIdle();
      computrons = done.meter.compute;
      return done;
    });
    queue = result.catch(() => undefined);
    return result;
  }

  const worker: XsWorker = {
    async issue(command) {
      const { reply } = await send('?', JSON.stringify(command));
      const decoded = JSON.parse(reply.toString('utf8'));
      if (decoded.error) {
        throw new XsCommandError(`XS: ${decoded.error.message}`, decoded.error.reason);
      }
      return decoded.ok;
    },
    async evaluate(code) {
      await send('e', code);
    },
    get computrons() {
      return computrons;
    },
    async liveSlots() {
      const { meter } = await send('e', 'gc()');
      return meter.currentHeapCount;
    },
    async close() {
      if (closed) return;
      await queue;
      closed = true;
      toXs.end();
      const timer = setTimeout(() => child.kill(), 2000);
      await exited;
      clearTimeout(timer);
    },
  };

  try {
    await worker.evaluate(options.bundle);
  } catch (error) {
    child.kill();
    throw error;
  }
  return worker;
}
