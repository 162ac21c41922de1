/**
 * Talking to the provider's API from the page. The reader's bearer token comes in the URL
 * fragment (`/#token=...`, which a browser never sends to a server), moves to sessionStorage
 * (gone when the tab closes) and out of the address bar, and goes with every request as an
 * Authorization header. Without one the requests go without (an API that needs none).
 */
const TOKEN_KEY = 'meterveil.token';

export class Unauthorized extends Error {}

export function takeToken(): string | null {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (m) {
    sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
    history.replaceState(null, '', location.pathname + location.search);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

function headers(token: string | null): HeadersInit {
  return token ? { authorization: `Bearer ${token}` } : {};
}

export async function getJson<T>(token: string | null, path: string, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, { headers: headers(token), signal, cache: 'no-store' });
  if (res.status === 401 || res.status === 403) throw new Unauthorized(`${res.status} from ${path}`);
  const body = await res.json();
  if (!res.ok) throw new Error(`${path}: ${body.error ?? res.status}: ${body.message ?? ''}`);
  return body as T;
}

/**
 * Reads a Server-Sent Events stream with fetch, since EventSource cannot send an Authorization
 * header. Resolves when the server ends the stream; rejects when it breaks.
 */
export async function readEvents(
  token: string | null,
  path: string,
  onEvent: (event: string, data: string) => void,
  signal: AbortSignal,
): Promise<void> {
  const res = await fetch(path, { headers: { ...headers(token), accept: 'text/event-stream' }, signal, cache: 'no-store' });
  if (res.status === 401 || res.status === 403) throw new Unauthorized(`${res.status} from ${path}`);
  if (!res.ok || !res.body) throw new Error(`${path}: ${res.status}`);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value.replace(/\r\n?/g, '\n');
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const text = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'event') event = text;
        else if (field === 'data') data.push(text);
      }
      if (data.length > 0) onEvent(event, data.join('\n'));
    }
  }
}
