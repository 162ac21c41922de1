/** How a long-running role command ends: on SIGINT or SIGTERM it stops cleanly, once. */
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
