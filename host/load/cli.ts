/** `meterveil load`: the load generator on the command line. */
import type { Command } from 'commander';
import { cliAction, usage } from '../cli/action.ts';
import { roleLogger } from '../log/logger.ts';
import { MeterveilError } from '../../firmware/errors.ts';
import { LOAD_BROKERS } from './layout.ts';
import { formatLoadResult, runLoad } from './run.ts';

function integer(text: string, what: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) usage('bad-argument', `${what} must be an integer of at least ${min}`);
  return n;
}

function share(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !(n >= 0 && n <= 1)) usage('bad-argument', `${what} must be a number from 0 to 1`);
  return n;
}

export function register(program: Command): void {
  program
    .command('load')
    .description(
      'a bounded load on this machine: N simulated meters report real 2048-bit reports to a generated deployment, then every slot is checked',
    )
    .requiredOption('--meters <n>', 'simulated meter identities')
    .option('--slot-seconds <s>', 'slot length', '60')
    .requiredOption('--duration <s>', 'seconds of reporting (whole slots; at most 3600)')
    .option('--group-size <n>', 'meters per group (one aggregator and one feeder each)', '1000')
    .option('--groups-per-aggregator <n>', 'groups one aggregator process runs (a placement in the generated config)', '1')
    .option('--broker <kind>', 'embedded (aedes, its own process), mosquitto, or nats (a three-node cluster)', 'embedded')
    .option('--host <address>', 'loopback address the services listen on', '127.0.0.1')
    .option('--connections <n>', 'identities that hold their own connection (default: all, at most 10,000)')
    .option('--rotating <n>', 'short-lived connections at once for the other identities', '200')
    .option('--spread <share>', 'reports of a slot go out over this share of the slot after its end', '0.25')
    .option('--keep', "keep the run's folder (config, logs, stores) and print its path")
    .action(
      cliAction(async (opts: Record<string, string | boolean | undefined>) => {
        const broker = LOAD_BROKERS.find((b) => b === opts.broker) ?? usage('bad-argument', '--broker must be embedded, mosquitto or nats');
        try {
          const result = await runLoad({
            meters: integer(String(opts.meters), '--meters', 2),
            slotSeconds: integer(String(opts.slotSeconds), '--slot-seconds', 1),
            durationSeconds: integer(String(opts.duration), '--duration', 1),
            groupSize: integer(String(opts.groupSize), '--group-size', 2),
            groupsPerAggregator: integer(String(opts.groupsPerAggregator), '--groups-per-aggregator', 1),
            broker,
            host: String(opts.host),
            held: opts.connections === undefined ? undefined : integer(String(opts.connections), '--connections', 0),
            rotating: integer(String(opts.rotating), '--rotating', 1),
            spread: share(String(opts.spread), '--spread'),
            keepDir: opts.keep === true,
            log: roleLogger('load'),
          });
          process.stdout.write(formatLoadResult(result) + '\n' + (result.dir ? `folder: ${result.dir}\n` : ''));
          if (!result.complete)
            throw new MeterveilError('load-incomplete', 'not every slot was decrypted once with the expected count and totals');
        } catch (e) {
          if (e instanceof MeterveilError && (e.reason === 'load-not-loopback' || e.reason === 'bad-argument')) usage(e.reason, e.message);
          throw e;
        }
      }),
    );
}
