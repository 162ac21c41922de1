/**
 * Serves the dashboard's page and bundle (host/dashboard/, built into build/dashboard/ by
 * tools/dashboard/build.ts before tests, at pack time and before `npm start`). The page holds no
 * data: everything it shows it asks of /api with the reader's token, so the files themselves are
 * served without one. A strict Content-Security-Policy lets the page load only its own script
 * and style and talk only to its own origin.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';

const DASHBOARD_DIR = new URL('../../build/dashboard/', import.meta.url);

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
};

export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Answers a request for one of the dashboard's files; false for any other path. */
export function serveDashboard(req: IncomingMessage, res: ServerResponse): boolean {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const entry = FILES[path];
  if (!entry || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  let body: Buffer;
  try {
    body = readFileSync(new URL(entry.file, DASHBOARD_DIR));
  } catch {
    res.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end('The dashboard is not built: run `npm run build:dashboard` in the meterveil folder.\n');
    return true;
  }
  res.writeHead(200, {
    'content-type': entry.type,
    'content-length': body.length,
    'cache-control': 'no-cache',
    'content-security-policy': DASHBOARD_CSP,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
  return true;
}
