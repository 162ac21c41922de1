/**
 * Writes the reason tables in the docs from the catalogues (host/reasons/, firmware/reasons/).
 * Run after adding or changing a reason: `node --import tsx tools/docs/reasons.ts`;
 * test/reasons/docs.test.ts fails while a doc differs from what this would write.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DOCS_WITH_REASONS, renderReasonTables } from './reason-tables.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

for (const doc of DOCS_WITH_REASONS) {
  const path = `${root}${doc}`;
  const before = readFileSync(path, 'utf8');
  const after = renderReasonTables(before);
  if (after !== before) writeFileSync(path, after);
  process.stdout.write(`${doc}: ${after === before ? 'up to date' : 'written'}\n`);
}
