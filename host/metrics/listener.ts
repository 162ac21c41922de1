/**
 * Serves a role's registry as /metrics in Prometheus' text format, on the address the command
 * line gives (`--metrics host:port`); the provider serves it on its API instead.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveHttp, type HttpAddress, type HttpListener } from '../net/http-server.ts';
import { servedMetrics, type Registry } from './registry.ts';

/** Answers GET /metrics from the registry; false for any other path, for the caller to answer. */
export function serveMetricsRequest(registry: Registry, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' || new URL(req.url ?? '/', 'http://localhost').pathname !== '/metrics') return false;
  servedMetrics(registry).then(
    (text) => {
      res.writeHead(200, { 'content-type': registry.contentType, 'cache-control': 'no-store' });
      res.end(text);
    },
    () => {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('metrics could not be collected\n');
    },
  );
  return true;
}

export function startMetricsListener(registry: Registry, address: HttpAddress): Promise<HttpListener> {
  return serveHttp(address, 'metrics', (req, res) => {
    if (serveMetricsRequest(registry, req, res)) return;
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('only /metrics is served here\n');
  });
}
