/** The meterveil command line. Each area registers its own commands below. */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { register as registerKeyCommands } from './key-commands.ts';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('meterveil')
  .description('privacy-preserving aggregation of smart-meter readings')
  .version(version)
  .showHelpAfterError('(run with --help for usage)');

registerKeyCommands(program);
await import('../threshold/cli.ts').then((m) => m.register(program));
await import('../provision/cli.ts').then((m) => m.register(program));
await import('../custodian/cli.ts').then((m) => m.register(program));
await import('../keys/cli.ts').then((m) => m.register(program));
await import('../start/register.ts').then((m) => m.register(program));
await import('../simulate/cli.ts').then((m) => m.register(program));
await import('../policy/cli.ts').then((m) => m.register(program));
await import('../flash/cli.ts').then((m) => m.register(program));

await program.parseAsync(process.argv);
