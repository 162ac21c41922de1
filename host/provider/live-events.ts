/**
 * Server-Sent Events for the dashboard (GET /api/events): one `slot` event each time a group's
 * slot changes at the provider (decrypted, its feeder reading in, compared, alerted), carrying the
 * slot's row as the series endpoint gives it, minus which meters reported. A comment line every
 * 15 s keeps proxies from closing an idle stream.
 */
import type { ServerResponse } from 'node:http';

const HEARTBEAT_MS = 15_000;
/** A client that reads nothing for this much queued output is dropped rather than buffered for. */
const MAX_BUFFERED_BYTES = 1 << 20;

export class LiveEvents {
  private readonly clients = new Set<ServerResponse>();
  private readonly heartbeat: NodeJS.Timeout;

  constructor() {
    this.heartbeat = setInterval(() => this.write(': keep-alive\n\n'), HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  get listeners(): number {
    return this.clients.size;
  }

  open(res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    // How long a browser waits before reconnecting after the stream broke.
    res.write('retry: 3000\n\n');
    this.clients.add(res);
    res.on('close', () => this.clients.delete(res));
  }

  publish(event: string, data: unknown): void {
    this.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const res of this.clients) res.end();
    this.clients.clear();
  }

  private write(text: string): void {
    for (const res of this.clients) {
      if (res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
        this.clients.delete(res);
      } else res.write(text);
    }
  }
}
