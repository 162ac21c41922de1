/**
 * The pipeline's state beside the charts: decryption (and in threshold mode the reservations
 * waiting for the custodians), the latest alerts, refusals and suppressions by reason, and meter
 * health as counts of meters. Nothing here names a meter.
 */
import { addCounts, countTable, h } from './dom.ts';
import type { AggregatorCounts, Alert, Health, MeterHealth, Refusal, Reservation } from './types.ts';

export interface PanelData {
  health: Health;
  aggregators: AggregatorCounts[];
  refusals: Refusal[];
  reservations: Reservation[];
  alerts: Alert[];
  meters: MeterHealth[];
}

const panel = (id: string, title: string, ...body: (Node | string)[]) => h('div', { class: 'panel', id }, h('h2', {}, title), ...body);

function decryption(d: PanelData): HTMLElement {
  const { health } = d;
  const lines = [
    h(
      'p',
      {},
      `mode: ${health.decryption === 'threshold' ? 'threshold (custodians decrypt together)' : 'single key'} · key ${health.keyId}`,
    ),
    h('p', {}, `broker: ${health.broker} · slots decrypted: ${health.decrypted}`),
  ];
  if (health.decryption !== 'threshold') return panel('decryption', 'Decryption', ...lines);
  const states: Record<string, number> = {};
  for (const r of d.reservations) addCounts(states, { [r.state === 'refused' ? `refused: ${r.reason ?? 'unknown'}` : 'waiting']: 1 });
  return panel(
    'decryption',
    'Decryption',
    ...lines,
    h('p', {}, `reservations waiting for the custodians: ${health.waiting}`),
    countTable(states, 'no reservation held'),
  );
}

const SHOWN_ALERTS = 10;

function alerts(d: PanelData): HTMLElement {
  if (d.alerts.length === 0) return panel('alerts', 'Alerts', h('p', { class: 'none' }, 'no alert'));
  return panel(
    'alerts',
    'Alerts',
    h(
      'ul',
      {},
      ...d.alerts
        .slice(0, SHOWN_ALERTS)
        .map((a) =>
          h(
            'li',
            { 'data-group': a.groupId },
            `${new Date(a.start).toLocaleString()} · ${a.groupId} · ${a.kind}` +
              (a.deviation === null ? '' : ` · ${(a.deviation * 100).toFixed(1)} % from the feeder`) +
              (a.missing > 0 ? ` · ${a.missing} meter(s) not in the total` : ''),
          ),
        ),
    ),
    ...(d.alerts.length > SHOWN_ALERTS
      ? [h('p', { class: 'note' }, "and earlier ones (each group's card counts those in its range)")]
      : []),
  );
}

function refusals(d: PanelData): HTMLElement {
  const reports: Record<string, number> = {};
  const suppressed: Record<string, number> = {};
  for (const a of d.aggregators) {
    addCounts(reports, a.rejections);
    addCounts(suppressed, a.suppressed);
  }
  const aggregates: Record<string, number> = {};
  for (const r of d.refusals) addCounts(aggregates, { [r.reason]: 1 });
  return panel(
    'refusals',
    'Refusals and suppressions',
    h('h3', {}, 'reports refused by the aggregators'),
    countTable(reports, 'none'),
    h('h3', {}, 'slots suppressed (not published)'),
    countTable(suppressed, 'none'),
    h('h3', {}, `aggregates refused by the provider${d.refusals.length >= 1000 ? ' (latest 1000)' : ''}`),
    countTable(aggregates, 'none'),
  );
}

function meters(d: PanelData): HTMLElement {
  const reported = d.meters.filter((m) => m.receivedAt !== null);
  const count = (f: (m: MeterHealth) => boolean) => String(reported.filter(f).length);
  const rows: [string, string][] = [
    ['meters', String(d.meters.length)],
    ['with a health status', String(reported.length)],
    ['no status yet', String(d.meters.length - reported.length)],
    ['dropped readings', count((m) => (m.dropped ?? 0) > 0)],
    ['refused acknowledgements', count((m) => (m.acksRejected ?? 0) > 0)],
    ['storage full', count((m) => (m.storageFull ?? 0) > 0)],
    ['sensor misses', count((m) => (m.sensorMisses ?? 0) > 0)],
  ];
  return panel(
    'meters',
    'Meter health',
    h('table', {}, h('tbody', {}, ...rows.map(([what, n]) => h('tr', {}, h('td', {}, what), h('td', { class: 'n' }, n))))),
    h('p', { class: 'note' }, 'counts of meters whose latest status reports it'),
  );
}

export function renderPanels(into: HTMLElement, d: PanelData): void {
  into.replaceChildren(decryption(d), alerts(d), refusals(d), meters(d));
}
