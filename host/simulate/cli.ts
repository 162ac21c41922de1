/** `meterveil simulate`: the fleet simulation on the command line. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { cliAction, usage } from '../cli/action.ts';
import { formatSummary, runSimulation } from './simulation.ts';

function readConfigs(path: string): Record<string, unknown>[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    usage('bad-config-file', `${path}: ${(error as Error).message}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { meters?: unknown })?.meters;
  if (!Array.isArray(list) || list.length === 0)
    usage('bad-config-file', `${path}: expected a JSON array of meter configs or {"meters": [...]}`);
  return list as Record<string, unknown>[];
}

function positiveInteger(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) usage('bad-argument', `${what} must be a positive integer`);
  return value;
}

export function register(program: Command) {
  program
    .command('simulate')
    .description('run N meters (the real firmware inside XS) with synthetic households in virtual time')
    .option('--meters <n>', 'number of meters', '10')
    .option('--hours <h>', 'virtual hours to simulate', '24')
    .option('--broker <url>', 'MQTT broker (default: an embedded one)')
    .option('--config <file>', 'provisioned meter configs: a JSON array or {"meters": [...]} (firmware schema, docs/firmware.md)')
    .option('--per-worker <n>', 'meters per XS worker process', '8')
    .option('--slot-seconds <s>', 'slot length for generated configs', '900')
    .option('--readings <n>', 'sub-slot readings packed per report for generated configs', '15')
    .option('--start <iso>', 'virtual start time (default: today 00:00 UTC)')
    .option('--verbose', "print the meters' log lines")
    .action(
      cliAction(async (opts: Record<string, string | boolean | undefined>) => {
        const hours = Number(opts.hours);
        if (!(hours > 0)) usage('bad-argument', '--hours must be a positive number');
        const startMs = opts.start === undefined ? undefined : Date.parse(String(opts.start));
        if (startMs !== undefined && !Number.isFinite(startMs)) usage('bad-argument', '--start must be an ISO date');
        const configs = opts.config ? readConfigs(String(opts.config)) : undefined;
        const summary = await runSimulation({
          meters: positiveInteger(String(opts.meters), '--meters'),
          hours,
          brokerUrl: opts.broker ? String(opts.broker) : undefined,
          configs,
          metersPerWorker: positiveInteger(String(opts.perWorker), '--per-worker'),
          slotSeconds: positiveInteger(String(opts.slotSeconds), '--slot-seconds'),
          readings: positiveInteger(String(opts.readings), '--readings'),
          startMs,
          log: opts.verbose
            ? (line) => process.stderr.write(line + '\n')
            : (line) => {
                if (/live XS slots|error/.test(line)) process.stderr.write(line + '\n');
              },
        });
        process.stdout.write(formatSummary(summary) + '\n');
      }),
    );
}
