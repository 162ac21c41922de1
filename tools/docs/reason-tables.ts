/**
 * Renders the reason tables of the docs from the catalogues. A table lives between
 * `<!-- reasons: SPEC -->` and `<!-- /reasons -->`; SPEC is `all` (every catalogue, one section
 * each) or a list of catalogue ids and single reasons, e.g. `wire aggregator out-of-range`.
 * Everything outside the markers is left as written.
 */
import { catalogues } from '../../host/reasons/index.ts';
import type { Catalogue } from '../../firmware/reasons/index.ts';

/** The docs that hold generated reason tables, relative to the repository root. */
export const DOCS_WITH_REASONS = ['docs/reasons.md', 'docs/pipeline.md'];

const REGION = /(<!-- reasons: ([^>]*?) -->\n)[\s\S]*?(<!-- \/reasons -->)/g;

function table(rows: [string, string][]): string {
  return [
    '| reason | meaning |',
    '|---|---|',
    ...rows.map(([reason, meaning]) => `| \`${reason}\` | ${meaning.replaceAll('|', '\\|')} |`),
  ].join('\n');
}

const rowsOf = (c: Catalogue): [string, string][] => Object.entries(c.reasons);

function render(spec: string): string {
  if (spec === 'all') return catalogues.map((c) => `### ${c.domain}\n\n\`${c.source}\`\n\n${table(rowsOf(c))}`).join('\n\n');
  const rows = spec.split(/\s+/).flatMap((token): [string, string][] => {
    const catalogue = catalogues.find((c) => c.id === token);
    if (catalogue) return rowsOf(catalogue);
    const home = catalogues.find((c) => token in c.reasons);
    if (!home) throw new Error(`<!-- reasons: ${spec} -->: ${token} is neither a catalogue id nor a reason`);
    return [[token, home.reasons[token]]];
  });
  return table(rows);
}

/** The markdown with every reason region rendered afresh from the catalogues. */
export function renderReasonTables(markdown: string): string {
  return markdown.replace(REGION, (_, open: string, spec: string, close: string) => `${open}\n${render(spec.trim())}\n\n${close}`);
}
