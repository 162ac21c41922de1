/** Builds elements from text and attributes only (never HTML strings), so no API value can become markup. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

/** A table of counts by reason, or a line saying there are none. */
export function countTable(counts: Record<string, number>, empty: string): HTMLElement {
  const rows = Object.entries(counts)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1]);
  if (rows.length === 0) return h('p', { class: 'none' }, empty);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, h('th', {}, 'reason'), h('th', { class: 'n' }, 'count'))),
    h(
      'tbody',
      {},
      ...rows.map(([reason, n]) => h('tr', { 'data-reason': reason }, h('td', {}, reason), h('td', { class: 'n' }, String(n)))),
    ),
  );
}

export function addCounts(into: Record<string, number>, from: Record<string, number> | null): void {
  for (const [reason, n] of Object.entries(from ?? {})) into[reason] = (into[reason] ?? 0) + n;
}
