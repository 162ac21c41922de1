/** The meterveil command line. Each area registers its own commands below. */
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { LOG_LEVEL_ENV, LOG_LEVELS } from '../log/logger.ts';
import { register as registerKeyCommands } from './key-commands.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('meterveil')
  .description('privacy-preserving aggregation of smart-meter readings')
  .version(version)
  .showHelpAfterError('(run with --help for usage)')
  .addOption(new Option('--log-level <level>', `log level of the roles (default: $${LOG_LEVEL_ENV} or info)`).choices(LOG_LEVELS));

// Through the environment, so that the roles `start` runs as children log at the same level.
program.hook('preAction', (_program, command) => {
  const { logLevel } = command.optsWithGlobals<{ logLevel?: string }>();
  if (logLevel !== undefined) process.env[LOG_LEVEL_ENV] = logLevel;
});

registerKeyCommands(program);
await import('../threshold/cli.ts').then((m) => m.register(program));
await import('../provision/cli.ts').then((m) => m.register(program));
await import('../custodian/cli.ts').then((m) => m.register(program));
await import('../keys/cli.ts').then((m) => m.register(program));
await import('../start/register.ts').then((m) => m.register(program));
await import('../simulate/cli.ts').then((m) => m.register(program));
await import('../load/cli.ts').then((m) => m.register(program));
await import('../policy/cli.ts').then((m) => m.register(program));
await import('../flash/cli.ts').then((m) => m.register(program));
await import('../gc/cli.ts').then((m) => m.register(program));

await program.parseAsync(process.argv);
