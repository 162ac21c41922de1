/**
 * One group's card: its load (the decrypted total of each slot as average kW) against its
 * feeder meter, alerted slots marked, and below it the coverage (how many of its members are in
 * each slot's total) and the deviation from the feeder. Counts only: which members reported is
 * not shown, nor asked for.
 */
import uPlot from 'uplot';
import { h } from './dom.ts';
import type { Group, SlotRow } from './types.ts';

/** Average power over a slot, in kW, from its energy in mWh. */
const kw = (mwh: string, slotSeconds: number) => (Number(mwh) * 3.6) / slotSeconds / 1000;

export class GroupCard {
  readonly el: HTMLElement;
  private readonly rows = new Map<number, SlotRow>();
  private readonly load: uPlot;
  private readonly coverage: uPlot;
  private readonly summary: HTMLElement;
  private range: { from: number; to: number } = { from: 0, to: 0 };

  constructor(
    readonly group: Group,
    private readonly slotSeconds: number,
  ) {
    this.summary = h('p', { class: 'summary' }, 'no slot decrypted in this range yet');
    const loadBox = h('div', { class: 'chart' });
    const coverageBox = h('div', { class: 'chart small' });
    this.el = h(
      'article',
      { class: 'group', 'data-group': group.id, 'data-slots': '0', 'data-alerts': '0' },
      h(
        'h2',
        {},
        `Group ${group.id}`,
        h('span', { class: 'meta' }, ` ${group.members.length} meters · feeder ${group.feeder} · k ${group.k}`),
        h('span', { class: 'badge alert-badge', hidden: '' }),
      ),
      this.summary,
      loadBox,
      coverageBox,
    );
    const width = 600;
    this.load = new uPlot(
      {
        width,
        height: 220,
        legend: { live: true },
        scales: { x: { time: true } },
        axes: [{}, { label: 'kW', size: 50 }],
        series: [
          {},
          { label: 'meters (decrypted total)', stroke: '#1f6feb', width: 2, value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} kW`) },
          { label: 'feeder', stroke: '#8a8f98', width: 2, dash: [6, 4], value: (_u, v) => (v == null ? '–' : `${v.toFixed(2)} kW`) },
          {
            label: 'alert',
            stroke: '#d1242f',
            width: 0,
            paths: () => null,
            points: { show: true, size: 9, fill: '#d1242f', stroke: '#d1242f' },
            value: (_u, v) => (v == null ? '' : 'ALERT'),
          },
        ],
      },
      [[], [], [], []],
      loadBox,
    );
    this.coverage = new uPlot(
      {
        width,
        height: 140,
        scales: { x: { time: true }, n: { range: [0, group.members.length] }, pct: { auto: true } },
        axes: [
          {},
          { scale: 'n', label: 'meters', size: 50 },
          { scale: 'pct', side: 1, label: 'deviation %', size: 50, grid: { show: false } },
        ],
        series: [
          {},
          { label: `contributors (of ${group.members.length})`, scale: 'n', stroke: '#2da44e', fill: 'rgba(45,164,78,0.15)', width: 1 },
          { label: 'deviation', scale: 'pct', stroke: '#bf8700', width: 1, value: (_u, v) => (v == null ? '–' : `${v.toFixed(1)} %`) },
        ],
      },
      [[], [], []],
      coverageBox,
    );
    new ResizeObserver(() => this.resize(loadBox.clientWidth)).observe(loadBox);
  }

  /** Replaces the card's slots with a range's (a new range). */
  reset(rows: SlotRow[], from: number, to: number): void {
    this.rows.clear();
    this.range = { from, to };
    for (const r of rows) this.rows.set(r.slot, r);
    this.draw();
  }

  /** A slot came or changed; a live range moves its window forward with the clock. */
  upsert(row: SlotRow, live: { spanSeconds: number } | null): void {
    if (live) {
      const to = Date.now() / 1000;
      this.range = { from: to - live.spanSeconds, to };
      for (const slot of this.rows.keys()) if ((slot + 1) * this.slotSeconds < this.range.from) this.rows.delete(slot);
    } else if (row.slot * this.slotSeconds < this.range.from || row.slot * this.slotSeconds >= this.range.to) return;
    this.rows.set(row.slot, row);
    this.draw();
  }

  private resize(width: number): void {
    if (width <= 0) return;
    this.load.setSize({ width, height: 220 });
    this.coverage.setSize({ width, height: 140 });
  }

  private draw(): void {
    const rows = [...this.rows.values()].sort((a, b) => a.slot - b.slot);
    const x = rows.map((r) => r.slot * this.slotSeconds);
    const meters = rows.map((r) => kw(r.total, this.slotSeconds));
    const feeder = rows.map((r) => (r.feeder === null ? null : kw(r.feeder, this.slotSeconds)));
    const alerts = rows.map((r, i) => (r.status === 'alert' ? (feeder[i] ?? meters[i]) : null));
    // The axis starts where the range's data starts: a pipeline that began ten minutes ago fills the chart.
    const xRange = { min: x.length > 0 ? Math.max(this.range.from, x[0] - this.slotSeconds) : this.range.from, max: this.range.to };
    this.load.setData([x, meters, feeder, alerts] as uPlot.AlignedData, false);
    this.load.setScale('x', xRange);
    this.coverage.setData(
      [x, rows.map((r) => r.contributors), rows.map((r) => (r.deviation === null ? null : r.deviation * 100))] as uPlot.AlignedData,
      false,
    );
    this.coverage.setScale('x', xRange);

    const alerted = rows.filter((r) => r.status === 'alert').length;
    this.el.dataset.slots = String(rows.length);
    this.el.dataset.alerts = String(alerted);
    this.el.classList.toggle('alerted', alerted > 0);
    const badge = this.el.querySelector<HTMLElement>('.alert-badge')!;
    badge.hidden = alerted === 0;
    badge.textContent = `${alerted} alert${alerted === 1 ? '' : 's'}`;
    const last = rows.at(-1);
    if (!last) {
      this.summary.textContent = 'no slot decrypted in this range yet';
      delete this.el.dataset.lastSlot;
      return;
    }
    this.el.dataset.lastSlot = String(last.slot);
    const time = new Date(last.start).toLocaleTimeString();
    const deviation = last.deviation === null ? 'feeder reading not in yet' : `deviation ${(last.deviation * 100).toFixed(1)} %`;
    this.summary.textContent = `latest slot ${time}: ${kw(last.total, this.slotSeconds).toFixed(2)} kW from ${last.contributors} of ${this.group.members.length} meters, ${deviation}${last.status === 'alert' ? ' — ALERT' : ''}`;
  }
}
