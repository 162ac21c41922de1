/**
 * Every command runs through cliAction so that a refusal is one line on stderr with its reason
 * and a non-zero exit code, never a stack trace; a supervised role also sends the refusal to its
 * supervisor.
 */
import { MeterveilError, type Reason } from '../../firmware/errors.ts';
import { announceFailure } from './role-channel.ts';

export class UsageError extends MeterveilError {}

export function cliAction<A extends unknown[]>(fn: (...args: A) => unknown | Promise<unknown>) {
  return async (...args: A) => {
    try {
      await fn(...args);
    } catch (e) {
      // Anything else is a bug; it still ends as one line, not a stack trace.
      const refusal = e instanceof MeterveilError ? e : new MeterveilError('internal-error', e instanceof Error ? e.message : String(e));
      process.stderr.write(`meterveil: ${refusal.message}\n`);
      await announceFailure(refusal.reason, refusal.message);
      process.exitCode = refusal instanceof UsageError ? 2 : 1;
    }
  };
}

export function usage(reason: Reason, message: string): never {
  throw new UsageError(reason, message);
}

/** A non-negative decimal integer, as the CLI accepts plaintexts and scalars. */
export function parseDecimal(text: string, what: string): bigint {
  if (typeof text !== 'string' || !/^(0|[1-9][0-9]*)$/.test(text)) usage('bad-argument', `${what} must be a non-negative decimal integer`);
  return BigInt(text);
}
