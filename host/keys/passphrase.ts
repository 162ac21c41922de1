/**
 * Where a passphrase comes from: --passphrase-file FILE (first line, without its line ending), or
 * else the environment variable METERVEIL_PASSPHRASE. Never a command-line argument, which other
 * users of the machine can read in the process list.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { fail } from '../../firmware/errors.ts';

export const PASSPHRASE_ENV = 'METERVEIL_PASSPHRASE';

export interface PassphraseOptions {
  passphraseFile?: string;
}

export function addPassphraseOption(command: Command, purpose: string): Command {
  return command.option('--passphrase-file <file>', `file whose first line is the passphrase that ${purpose} (else $${PASSPHRASE_ENV})`);
}

/**
 * Takes the passphrase out of this process's environment, so that no child it spawns inherits it
 * unless it is handed on explicitly (withPassphrase) to a process that unseals a key.
 */
export function takePassphraseFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const value = env[PASSPHRASE_ENV];
  delete env[PASSPHRASE_ENV];
  return value === '' ? undefined : value;
}

/** A child's environment: `env` without the passphrase, or with exactly `passphrase` if given. */
export function childEnvironment(env: NodeJS.ProcessEnv, passphrase: string | undefined): NodeJS.ProcessEnv {
  const { [PASSPHRASE_ENV]: _inherited, ...rest } = env;
  return passphrase === undefined ? rest : { ...rest, [PASSPHRASE_ENV]: passphrase };
}

export function resolvePassphrase(options: PassphraseOptions, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (options.passphraseFile !== undefined) {
    let text: string;
    try {
      text = readFileSync(options.passphraseFile, 'utf8');
    } catch (e) {
      return fail(
        'passphrase-file-unreadable',
        `cannot read ${options.passphraseFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      );
    }
    const line = text.split(/\r?\n/, 1)[0];
    if (line.length === 0) fail('empty-passphrase', `${options.passphraseFile} has an empty first line`);
    return line;
  }
  const fromEnv = env[PASSPHRASE_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}
