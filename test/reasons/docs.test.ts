import test from 'ava';
import { readFileSync } from 'node:fs';
import { catalogues } from '../../host/reasons/index.ts';
import { DOCS_WITH_REASONS, renderReasonTables } from '../../tools/docs/reason-tables.ts';

const root = new URL('../../', import.meta.url);
const read = (doc: string) => readFileSync(new URL(doc, root), 'utf8');

test('the reason tables in the docs are those the catalogues generate (run tools/docs/reasons.ts)', (t) => {
  for (const doc of DOCS_WITH_REASONS) t.is(read(doc), renderReasonTables(read(doc)), doc);
});

test('docs/reasons.md lists every catalogued reason with its description', (t) => {
  const text = read('docs/reasons.md');
  for (const c of catalogues)
    for (const [reason, meaning] of Object.entries(c.reasons)) t.true(text.includes(`| \`${reason}\` | ${meaning} |`), reason);
});

test('rendering replaces a stale table and leaves the text around it alone', (t) => {
  const stale = 'before\n<!-- reasons: bad-mac -->\n| `bad-mac` | old words |\n<!-- /reasons -->\nafter\n';
  t.is(
    renderReasonTables(stale),
    `before\n<!-- reasons: bad-mac -->\n\n| reason | meaning |\n|---|---|\n| \`bad-mac\` | ${catalogues.find((c) => c.id === 'wire')!.reasons['bad-mac']} |\n\n<!-- /reasons -->\nafter\n`,
  );
  t.throws(() => renderReasonTables('<!-- reasons: no-such-reason -->\n<!-- /reasons -->'), { message: /no-such-reason/ });
});
