/**
 * How a long-running role command ends: on SIGINT or SIGTERM it stops cleanly, once. Call it as
 * soon as the role runs and before saying so, so that a signal sent on reading that line finds the
 * handlers installed instead of Node's default of exiting at once.
 */
import { announceStopping } from './role-channel.ts';

export function untilSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      void announceStopping(signal);
      stop().then(resolve, (e) => {
        process.stderr.write(`meterveil: stopping failed: ${(e as Error).message}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
}
