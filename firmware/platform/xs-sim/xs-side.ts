/**
 * The XS half of the harness (host/xs/harness.ts): import it from a bundle entry.
 *
 *   serveCommands(handler)  installs the command handler: every worker.issue(command) from Node
 *                           calls handler(command) synchronously in XS; its return value goes
 *                           back as JSON. A throw becomes an XsCommandError in Node that keeps a
 *                           MeterveilError's `reason`.
 *   callHost(command)       sends a JSON command to Node's handleCommand and blocks until the
 *                           answer arrives; rethrows the host's error, a MeterveilError with the
 *                           host's reason when it had one.
 *
 * JSON carries no BigInt: send big numbers as hex or decimal strings.
 */

import { MeterveilError, type Reason } from '../../errors.ts';

declare const issueCommand: (request: ArrayBuffer) => ArrayBuffer;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toArrayBuffer(text: string): ArrayBuffer {
  const bytes = encoder.encode(text);
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
}

export function serveCommands(handler: (command: any) => unknown): void {
  (globalThis as any).handleCommand = (request: ArrayBuffer): ArrayBuffer => {
    let answer: unknown;
    try {
      const result = handler(JSON.parse(decoder.decode(new Uint8Array(request))));
      answer = { ok: result === undefined ? null : result };
    } catch (error) {
      const reason = error instanceof MeterveilError ? error.reason : undefined;
      answer = { error: { message: String((error as Error)?.message ?? error), reason } };
    }
    return toArrayBuffer(JSON.stringify(answer));
  };
}

export function callHost<Reply = any>(command: unknown): Reply {
  const answer = JSON.parse(decoder.decode(new Uint8Array(issueCommand(toArrayBuffer(JSON.stringify(command))))));
  if (answer.error) {
    const { message, reason } = answer.error as { message: string; reason?: Reason };
    if (reason === undefined) throw new Error(`host: ${message}`);
    throw new MeterveilError(reason, `host: ${message.startsWith(`${reason}: `) ? message.slice(reason.length + 2) : message}`);
  }
  return answer.ok as Reply;
}
