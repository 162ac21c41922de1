/** A deployment whose layout alone, with every member reporting, would disclose is not provisioned. */
import { fail } from '../../firmware/errors.ts';
import { describeViolation, DisclosureRule, type LayoutGroup } from './disclosure.ts';

export function refuseDisclosingLayout(groups: readonly LayoutGroup[]): void {
  const found = new DisclosureRule(groups).layoutViolations();
  if (found.length === 0) return;
  const more = found.length > 1 ? `, and ${found.length - 1} more cell(s)` : '';
  fail(
    found[0].reason,
    `the layout with every member reporting: ${describeViolation(found[0])}${more} (meterveil policy check lists them)`,
  );
}
