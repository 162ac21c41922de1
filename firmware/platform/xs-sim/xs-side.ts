/**
 * The XS half of the harness (host/xs/harness.ts): import it from a bundle entry.
 *
 *   serveCommands(handler)  installs the command handler: every worker.issue(command) from Node
 *                           calls handler(command) synchronously in XS; its return value goes
 *                           back as JSON. A throw becomes an XsCommandError in Node that keeps a
 *                           MeterveilError's `reason`.
 *   callHost(command)       sends a JSON command to Node's handleCommand and blocks until the
 *                           answer arrives; rethrows the host's error.
 *
 * JSON carries no BigInt: send big numbers as hex or decimal strings.
 */

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
      const e = error as { message?: string; reason?: string };
      answer = { error: { message: String(e?.message ?? error), reason: e?.reason } };
    }
    return toArrayBuffer(JSON.stringify(answer));
  };
}

export function callHost<Reply = any>(command: unknown): Reply {
  const answer = JSON.parse(decoder.decode(new Uint8Array(issueCommand(toArrayBuffer(JSON.stringify(command))))));
  if (answer.error) {
    const error = new Error(`host: ${answer.error.message}`) as Error & { reason?: string };
    error.reason = answer.error.reason;
    throw error;
  }
  return answer.ok as Reply;
}
