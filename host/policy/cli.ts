/**
 * `meterveil policy check --config FILE [--slots FILE]`: what the disclosure rule would refuse,
 * before a deployment runs. Prints one line per cell below its k, for the layout with every member
 * reporting and for each given slot; exit 0 when nothing would be disclosed, 1 when something
 * would, 2 when an input is malformed.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { MeterveilError } from '../../firmware/errors.ts';
import { cliAction, usage } from '../cli/action.ts';
import { loadConfig } from '../config/load.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { describeViolation, DisclosureRule, type DisclosureViolation } from './disclosure.ts';
import { parseSlotsFile, type SlotSets } from './slots-file.ts';

/** A malformed input is a usage error (exit 2), not a finding (exit 1). */
function asInput<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (e instanceof MeterveilError) usage(e.reason, e.message.slice(e.reason.length + 2));
    throw e;
  }
}

function readSlots(path: string, config: MeterveilConfig): SlotSets[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    usage('bad-slots', `cannot read ${path} as JSON: ${(e as Error).message}`);
  }
  return parseSlotsFile(json, config.groups);
}

/** Each finding as `reason: where: cell ...`, the layout's first, then the slots' in the file's order. */
export function policyFindings(config: MeterveilConfig, slots: readonly SlotSets[]): string[] {
  const rule = new DisclosureRule(config.groups);
  const line = (where: string) => (v: DisclosureViolation) => `${v.reason}: ${where}: ${describeViolation(v)}`;
  return [
    ...rule.layoutViolations().map(line('layout with every member reporting')),
    ...slots.flatMap((s) => rule.violations(s.sets).map(line(`slot ${s.slot}`))),
  ];
}

export function register(program: Command) {
  program
    .command('policy')
    .description('the disclosure rule that provider and custodians apply')
    .command('check')
    .description('list every cell of meters below its k: for the layout with every member reporting, and for given slots')
    .requiredOption('--config <file>', 'deployment config (groups with members, k, feeder)')
    .option('--slots <file>', 'contributor sets to check: {"slots":[{"slot":N,"sets":[{"group":"ID","contributors":["meter",...]}]}]}')
    .action(
      cliAction((opts: { config: string; slots?: string }) => {
        const config = asInput(() => loadConfig(opts.config));
        const slots = opts.slots === undefined ? [] : asInput(() => readSlots(opts.slots!, config));
        const findings = policyFindings(config, slots);
        for (const finding of findings) process.stdout.write(`${finding}\n`);
        if (findings.length > 0) {
          process.exitCode = 1;
          return;
        }
        const meters = new Set(config.groups.flatMap((g) => g.members)).size;
        const checked = slots.length > 0 ? ` and ${slots.length} slot(s)` : '';
        process.stdout.write(`ok: nothing disclosed below k by ${config.groups.length} group(s) of ${meters} meters${checked}\n`);
      }),
    );
}
