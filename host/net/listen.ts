/** Opens a listening socket; one that cannot be opened (port taken, not permitted) is a named refusal, not a stack trace. */
import type { Server } from 'node:net';
import { MeterveilError } from '../../firmware/errors.ts';

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new MeterveilError('cannot-listen', `${host}:${port}: ${e.code ?? e.message}`)),
    );
    server.listen(port, host, () => resolve());
  });
}
