/**
 * The dashboard page: loads the groups and the chosen time range from the API, then follows the
 * provider's live stream (/api/events), adding each slot as it is decrypted or compared, without
 * a reload. The panels beside the charts are read again after each change and every few seconds.
 */
import 'uplot/dist/uPlot.min.css';
import './style.css';
import { getJson, readEvents, takeToken, Unauthorized } from './api.ts';
import { GroupCard } from './group-card.ts';
import { renderPanels, type PanelData } from './panels.ts';
import type { Group, Series, SlotRow } from './types.ts';

/** The API serves at most this many slots per series request (host/provider/http-api.ts). */
const MAX_SERIES_SLOTS = 10_000;
const PANEL_REFRESH_MS = 5_000;
const RECONNECT_MS = 3_000;

const token = takeToken();
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const cards = new Map<string, GroupCard>();
let slotSeconds = 60;
/** Minutes back from now (following the stream), or a fixed window in Unix seconds. */
let range: { live: number } | { from: number; to: number } = { live: 60 };

function say(text: string | null): void {
  const el = $('message');
  el.hidden = text === null;
  el.textContent = text ?? '';
}

function connection(state: 'connecting' | 'live' | 'reconnecting' | 'fixed range'): void {
  const el = $('connection');
  el.dataset.state = state;
  el.textContent = state;
}

function explain(e: unknown): void {
  say(
    e instanceof Unauthorized
      ? 'This API needs a reader token: open the dashboard as /#token=YOUR_TOKEN (the part after # never reaches the server in the address).'
      : `Could not read the API: ${(e as Error).message}`,
  );
}

function shownWindow(): { from: number; to: number } {
  if ('live' in range) {
    const to = Date.now() / 1000;
    return { from: to - range.live * 60, to };
  }
  return range;
}

async function seriesOf(groupId: string, from: number, to: number): Promise<SlotRow[]> {
  const rows: SlotRow[] = [];
  const step = MAX_SERIES_SLOTS * slotSeconds;
  for (let start = from; start < to; start += step) {
    const end = Math.min(to, start + step - slotSeconds);
    const path = `/api/groups/${encodeURIComponent(groupId)}/series?from=${Math.floor(start)}&to=${Math.ceil(end)}`;
    rows.push(...(await getJson<Series>(token, path)).series);
  }
  return rows;
}

async function loadRange(): Promise<void> {
  const { from, to } = shownWindow();
  await Promise.all([...cards.values()].map(async (card) => card.reset(await seriesOf(card.group.id, from, to), from, to)));
}

async function refreshPanels(): Promise<void> {
  const [health, aggregators, refusals, reservations, alerts, meters] = await Promise.all([
    getJson<PanelData['health']>(token, '/api/health'),
    getJson<PanelData['aggregators']>(token, '/api/aggregators'),
    getJson<PanelData['refusals']>(token, '/api/refusals?limit=1000'),
    getJson<PanelData['reservations']>(token, '/api/reservations?limit=1000'),
    getJson<PanelData['alerts']>(token, '/api/alerts?limit=100'),
    getJson<PanelData['meters']>(token, '/api/meters'),
  ]);
  renderPanels($('panels'), { health, aggregators, refusals, reservations, alerts, meters });
}

let panelsDue: number | undefined;
function refreshPanelsSoon(): void {
  panelsDue ??= setTimeout(() => {
    panelsDue = undefined;
    refreshPanels().catch(explain);
  }, 500);
}

/** Follows the live stream for as long as the page is open; after a break, reloads the range to fill what was missed. */
async function follow(): Promise<void> {
  for (let first = true; ; first = false) {
    try {
      if (!first) await loadRange();
      const controller = new AbortController();
      const stream = readEvents(
        token,
        '/api/events',
        (event, data) => {
          if (event !== 'slot') return;
          const row = JSON.parse(data) as SlotRow & { groupId: string };
          cards.get(row.groupId)?.upsert(row, 'live' in range ? { spanSeconds: range.live * 60 } : null);
          refreshPanelsSoon();
        },
        controller.signal,
      );
      connection('live' in range ? 'live' : 'fixed range');
      say(null);
      await stream;
    } catch (e) {
      if (e instanceof Unauthorized) return explain(e);
    }
    connection('reconnecting');
    await new Promise((r) => setTimeout(r, RECONNECT_MS));
  }
}

function watchRangePicker(): void {
  const preset = $<HTMLSelectElement>('range-preset');
  const custom = $('range-custom');
  const local = (s: number) => new Date(s * 1000 - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  preset.addEventListener('change', () => {
    custom.hidden = preset.value !== 'custom';
    if (preset.value === 'custom') {
      const { from, to } = shownWindow();
      $<HTMLInputElement>('range-from').value = local(from);
      $<HTMLInputElement>('range-to').value = local(to);
      return;
    }
    range = { live: Number(preset.value) };
    connection('live');
    loadRange().catch(explain);
  });
  $('range').addEventListener('submit', (e) => {
    e.preventDefault();
    const from = Date.parse($<HTMLInputElement>('range-from').value) / 1000;
    const to = Date.parse($<HTMLInputElement>('range-to').value) / 1000;
    if (!Number.isFinite(from) || !Number.isFinite(to) || from >= to) return say('Choose a start before the end.');
    say(null);
    range = { from, to };
    connection('fixed range');
    loadRange().catch(explain);
  });
}

async function main(): Promise<void> {
  const groups = await getJson<Group[]>(token, '/api/groups');
  if (groups.length === 0) return say('The config has no groups.');
  const now = Math.floor(Date.now() / 1000);
  slotSeconds = (await getJson<Series>(token, `/api/groups/${encodeURIComponent(groups[0].id)}/series?from=${now}&to=${now}`)).slotSeconds;
  for (const g of groups) {
    const card = new GroupCard(g, slotSeconds);
    cards.set(g.id, card);
    $('groups').append(card.el);
  }
  watchRangePicker();
  await Promise.all([loadRange(), refreshPanels()]);
  setInterval(() => refreshPanels().catch(explain), PANEL_REFRESH_MS);
  void follow();
}

main().catch(explain);
