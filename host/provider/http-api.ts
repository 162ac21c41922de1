/**
 * The provider's read-only HTTP API (JSON, node:http). Group-level data only: per meter, nothing
 * but its membership and whether it reported in a slot. Totals are decimal strings (they may
 * exceed 2^53). Bad query parameters get 400 with a named reason. Every /api/* request needs a
 * reader's bearer token (401 without: host/provider/api-tokens.ts); off loopback the API speaks HTTPS only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fail, MeterveilError } from '../../firmware/errors.ts';
import { METER_STATUS_FIELDS } from '../../firmware/protocol/meter-status.ts';
import { allMeters, type MeterveilConfig } from '../config/schema.ts';
import type { Registry } from '../metrics/registry.ts';
import { serveMetricsRequest } from '../metrics/listener.ts';
import { serveHttp, type HttpListener } from '../net/http-server.ts';
import type { PemPair } from '../tls/certificates.ts';
import { unauthorized, type ApiTokens } from './api-tokens.ts';
import { slotAt, slotStartMs } from '../protocol/slots.ts';
import { compareWithFeeder } from './compare.ts';
import { coarseRange } from './downsample.ts';
import type { AggregatorStatus } from '../protocol/aggregator-status.ts';
import type { LiveEvents } from './live-events.ts';
import type { MeterStatusRow, ProviderStore, SeriesRow } from './store.ts';
import { serveDashboard } from './dashboard-files.ts';

export const MAX_SERIES_SLOTS = 10_000;
const DEFAULT_SERIES_SLOTS = 60;
const MAX_LIST = 1000;

export interface ApiContext {
  config: MeterveilConfig;
  store: ProviderStore;
  keyId: string;
  brokerConnected: () => boolean;
  /** The readers' token digests: /api/* answers 401 to anyone else. */
  tokens: ApiTokens;
  /** The latest status of each group's aggregator, as it published it. */
  aggregators?: () => ReadonlyMap<string, AggregatorStatus & { receivedAt: number }>;
  now?: () => number;
  /** The dashboard's live stream (GET /api/events). */
  events?: LiveEvents;
  /** The provider's metrics, served as /metrics in Prometheus' text format. */
  metrics?: Registry;
}

/** Unix seconds or an ISO 8601 date-time, as milliseconds. */
export function parseTime(value: string, name: string): number {
  let ms: number;
  if (/^\d{1,12}$/.test(value)) ms = Number(value) * 1000;
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/.test(value)) ms = Date.parse(value);
  else return fail('bad-time', `${name} must be Unix seconds or an ISO 8601 date-time with a zone`);
  if (!Number.isFinite(ms)) fail('bad-time', `${name} is not a valid time`);
  return ms;
}

function parseLimit(value: string | null): number {
  if (value === null) return 100;
  if (!/^\d{1,4}$/.test(value) || Number(value) < 1 || Number(value) > MAX_LIST)
    fail('bad-limit', `limit must be an integer in 1..${MAX_LIST}`);
  return Number(value);
}

function onlyParams(url: URL, allowed: string[]) {
  for (const key of url.searchParams.keys()) if (!allowed.includes(key)) fail('unknown-parameter', `unknown query parameter "${key}"`);
}

/** The slots [fromSlot, toSlot) that `from` and `to` name (default: the last 60 slots); `perSlot` slots count as one toward the limit. */
function slotRange(ctx: ApiContext, url: URL, perSlot = 1): { fromSlot: number; toSlot: number } {
  const { config } = ctx;
  onlyParams(url, ['from', 'to']);
  const from = url.searchParams.get('from');
  const to = url.searchParams.get('to');
  const toMs = to === null ? (ctx.now ?? Date.now)() : parseTime(to, 'to');
  const fromMs = from === null ? toMs - DEFAULT_SERIES_SLOTS * perSlot * config.slotSeconds * 1000 : parseTime(from, 'from');
  if (fromMs > toMs) fail('bad-range', 'from must not be after to');
  const fromSlot = slotAt(fromMs, config.slotSeconds);
  const toSlot = Math.ceil(toMs / 1000 / config.slotSeconds);
  if ((toSlot - fromSlot) / perSlot > MAX_SERIES_SLOTS) fail('range-too-large', `at most ${MAX_SERIES_SLOTS} slots per request`);
  return { fromSlot, toSlot };
}

/** Downsampled slots (retention.downsample, host/provider/downsample.ts) whose first fine slot lies in the range. */
function coarseOf(ctx: ApiContext, groupId: string, url: URL) {
  const { config, store } = ctx;
  if (!config.groups.some((g) => g.id === groupId)) return undefined;
  const slots = config.retention.downsample?.slots ?? 1;
  const { fromSlot, toSlot } = slotRange(ctx, url, slots);
  return {
    groupId,
    slotSeconds: config.slotSeconds,
    slots: config.retention.downsample?.slots ?? null,
    coarse: coarseRange(store.db, groupId, fromSlot, toSlot).map((r) => ({
      slot: r.slot,
      start: new Date(slotStartMs(r.slot, config.slotSeconds)).toISOString(),
      slots: r.slots,
      decrypted: r.decrypted,
      total: r.total.toString(),
      feederSlots: r.feederSlots,
      feeder: r.feeder.toString(),
    })),
  };
}

function seriesOf(ctx: ApiContext, groupId: string, url: URL) {
  const { config, store } = ctx;
  const group = config.groups.find((g) => g.id === groupId);
  if (!group) return undefined;
  const { fromSlot, toSlot } = slotRange(ctx, url);
  const feeders = store.feederRange(groupId, fromSlot, toSlot);
  const alerted = store.alertSlots(groupId, fromSlot, toSlot);
  return {
    groupId,
    slotSeconds: config.slotSeconds,
    series: store.seriesRange(groupId, fromSlot, toSlot).map((row) => {
      const r = seriesRow(config, row, feeders.get(row.slot), alerted.has(row.slot));
      const { slot, start, contributors, total, feeder, deviation, status } = r;
      return {
        slot,
        start,
        contributors,
        reported: row.contributors,
        total,
        readings: row.readings.map(String),
        feeder,
        deviation,
        status,
      };
    }),
  };
}

/** A (group, slot)'s decrypted total against its feeder, as counts: which meters reported is not in it. */
function seriesRow(config: MeterveilConfig, row: SeriesRow, feeder: bigint | undefined, alerted: boolean) {
  const deviation = feeder === undefined ? null : compareWithFeeder(row.total, feeder, config.tolerance).deviation;
  return {
    slot: row.slot,
    start: new Date(slotStartMs(row.slot, config.slotSeconds)).toISOString(),
    contributors: row.contributors.length,
    members: config.groups.find((g) => g.id === row.groupId)?.members.length ?? 0,
    total: row.total.toString(),
    feeder: feeder === undefined ? null : feeder.toString(),
    deviation,
    status: feeder === undefined ? 'awaiting-feeder' : alerted ? 'alert' : 'ok',
  };
}

/** The row the dashboard's live stream sends when a (group, slot) changed; undefined before its total is decrypted. */
export function liveSeriesRow(ctx: ApiContext, groupId: string, slot: number) {
  const row = ctx.store.series(groupId, slot);
  if (!row) return undefined;
  return {
    groupId,
    ...seriesRow(ctx.config, row, ctx.store.feeder(groupId, slot), ctx.store.alertSlots(groupId, slot, slot + 1).size > 0),
  };
}

/** What a status says of its meter: every field but the envelope (version, meter id, tag). */
const HEALTH_FIELDS = METER_STATUS_FIELDS.filter(
  (f): f is Exclude<(typeof METER_STATUS_FIELDS)[number], 'v' | 'meterId' | 'mac'> => f !== 'v' && f !== 'meterId' && f !== 'mac',
);

/** A meter's latest health status as it sent it, with when it came; every field null before one came. */
function meterHealth(meterId: string, s: MeterStatusRow | undefined) {
  return {
    meterId,
    ...Object.fromEntries(HEALTH_FIELDS.map((f) => [f, s ? (f === 'at' ? new Date(s.at * 1000).toISOString() : s[f]) : null])),
    receivedAt: s ? new Date(s.receivedAt).toISOString() : null,
  };
}

function route(ctx: ApiContext, req: IncomingMessage): { status: number; body: unknown } {
  if (req.method !== 'GET') return { status: 405, body: { error: 'method-not-allowed', message: 'only GET is served' } };
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  const { config, store } = ctx;
  if (path === '/api/health') {
    onlyParams(url, []);
    return {
      status: 200,
      body: {
        status: 'ok',
        keyId: ctx.keyId,
        decryption: config.provider.decryption.mode,
        broker: ctx.brokerConnected() ? 'connected' : 'disconnected',
        groups: config.groups.length,
        decrypted: store.countSeries(),
        waiting: store.countWaiting(),
        suppressed: [...(ctx.aggregators?.().values() ?? [])].reduce(
          (sum, a) => sum + Object.values(a.suppressed).reduce((x, y) => x + y, 0),
          0,
        ),
        lastSlot: store.lastSlot(),
      },
    };
  }
  if (path === '/api/groups') {
    onlyParams(url, []);
    return { status: 200, body: config.groups.map((g) => ({ id: g.id, members: g.members, feeder: g.feeder, k: g.k })) };
  }
  const coarse = /^\/api\/groups\/([A-Za-z0-9._-]{1,64})\/coarse$/.exec(path);
  if (coarse) {
    const body = coarseOf(ctx, coarse[1], url);
    return body ? { status: 200, body } : { status: 404, body: { error: 'unknown-group', message: `no group "${coarse[1]}"` } };
  }
  const series = /^\/api\/groups\/([A-Za-z0-9._-]{1,64})\/series$/.exec(path);
  if (series) {
    const body = seriesOf(ctx, series[1], url);
    return body ? { status: 200, body } : { status: 404, body: { error: 'unknown-group', message: `no group "${series[1]}"` } };
  }
  if (path === '/api/meters') {
    onlyParams(url, []);
    const statuses = store.meterStatuses();
    return { status: 200, body: allMeters(config).map((id) => meterHealth(id, statuses.get(id))) };
  }
  const meter = /^\/api\/meters\/([A-Za-z0-9._-]{1,64})$/.exec(path);
  if (meter) {
    onlyParams(url, []);
    if (!allMeters(config).includes(meter[1])) return { status: 404, body: { error: 'unknown-meter', message: `no meter "${meter[1]}"` } };
    return { status: 200, body: meterHealth(meter[1], store.meterStatuses().get(meter[1])) };
  }
  if (path === '/api/aggregators') {
    onlyParams(url, []);
    const statuses = ctx.aggregators?.() ?? new Map();
    return {
      status: 200,
      body: config.groups.map((g) => {
        const s = statuses.get(g.id);
        return s
          ? {
              groupId: g.id,
              accepted: s.accepted,
              openSlots: s.openSlots,
              rejections: s.rejections,
              suppressed: s.suppressed,
              receivedAt: new Date(s.receivedAt).toISOString(),
            }
          : { groupId: g.id, accepted: null, openSlots: null, rejections: null, suppressed: null, receivedAt: null };
      }),
    };
  }
  if (path === '/api/refusals') {
    onlyParams(url, ['limit']);
    return { status: 200, body: store.refusals(parseLimit(url.searchParams.get('limit'))) };
  }
  if (path === '/api/reservations') {
    onlyParams(url, ['limit']);
    return { status: 200, body: store.reservations(parseLimit(url.searchParams.get('limit'))) };
  }
  if (path === '/api/alerts') {
    onlyParams(url, ['limit']);
    const alerts = store.alerts(parseLimit(url.searchParams.get('limit')));
    return {
      status: 200,
      body: alerts.map((a) => ({
        ...a,
        total: a.total?.toString() ?? null,
        feeder: a.feeder?.toString() ?? null,
        start: new Date(slotStartMs(a.slot, config.slotSeconds)).toISOString(),
      })),
    };
  }
  return { status: 404, body: { error: 'not-found', message: `no endpoint ${path}` } };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export async function startHttpApi(
  ctx: ApiContext,
  host: string,
  port: number,
  /** HTTPS with this certificate; without one the API listens on loopback only. */
  tls?: PemPair,
): Promise<HttpListener> {
  return serveHttp({ host, port, tls }, 'the API', (req, res) => {
    // The page and its files need no token; everything with data does (host/provider/api-tokens.ts).
    const denied = unauthorized(ctx.tokens, new URL(req.url ?? '/', 'http://localhost').pathname, req.headers.authorization);
    if (denied) return send(res, 401, denied, { 'www-authenticate': 'Bearer realm="meterveil"' });
    if (serveDashboard(req, res)) return;
    if (ctx.events && req.method === 'GET' && new URL(req.url ?? '/', 'http://localhost').pathname === '/api/events')
      return ctx.events.open(res);
    if (ctx.metrics && serveMetricsRequest(ctx.metrics, req, res)) return;
    try {
      const { status, body } = route(ctx, req);
      send(res, status, body);
    } catch (e) {
      if (e instanceof MeterveilError) send(res, 400, { error: e.reason, message: e.message });
      else send(res, 500, { error: 'internal-error', message: 'the request could not be served' });
    }
  });
}
