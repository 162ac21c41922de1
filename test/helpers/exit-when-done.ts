/**
 * Loaded into every test worker (ava's `require`): once a file's tests are done, its worker must
 * end. A socket, server, child or timer that a role failed to release would otherwise keep the
 * worker, and so `npm test`, alive for ever. Five seconds after the last test this names what is
 * still open on stderr, as the leak it is, and ends the worker.
 */
import { registerCompletionHandler } from 'ava';
import type { Server, Socket } from 'node:net';
import type { ChildProcess } from 'node:child_process';

const GRACE_MS = 5_000;

function describe(handle: unknown): string {
  const name = (handle as object)?.constructor?.name ?? typeof handle;
  if (name === 'Socket' || name === 'TLSSocket') {
    const s = handle as Socket;
    if (s.remotePort === undefined && (s as unknown as { fd?: number }).fd !== undefined) return `${name} fd`;
    return `${name} ${s.localAddress}:${s.localPort} -> ${s.remoteAddress}:${s.remotePort}`;
  }
  if (name === 'Server') {
    const address = (handle as Server).address();
    return `Server ${typeof address === 'object' && address ? `${address.address}:${address.port}` : String(address)}`;
  }
  if (name === 'ChildProcess') {
    const c = handle as ChildProcess;
    return `ChildProcess ${c.pid} ${c.spawnfile}`;
  }
  return name;
}

registerCompletionHandler(() => {
  setTimeout(() => {
    const internals = process as unknown as { _getActiveHandles(): unknown[] };
    const open = internals
      ._getActiveHandles()
      .filter((h) => h !== process.stdout && h !== process.stderr && h !== process.stdin)
      .map(describe);
    process.stderr.write(
      `still open ${GRACE_MS / 1000} s after the file's last test, a leak (ava names the file next): ` +
        `${open.join('; ') || process.getActiveResourcesInfo().join(', ')}\n`,
    );
    process.exit(1);
  }, GRACE_MS).unref();
});
