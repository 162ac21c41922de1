/** `--metrics host:port` of the role commands: where the role serves /metrics (the provider serves it on its API). */
import type { Command } from 'commander';
import { startMetricsListener } from '../metrics/listener.ts';
import type { Registry } from '../metrics/registry.ts';
import { parseHttpAddress } from '../net/http-server.ts';

export function addMetricsOption(command: Command): Command {
  return command.option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (a loopback address)');
}

/**
 * Serves the registry when the option was given, and returns the role's stop with the listener
 * closed first. A listener that cannot start stops the role before the refusal goes on.
 */
export async function withMetrics(
  registry: Registry,
  address: string | undefined,
  stop: () => Promise<void>,
): Promise<() => Promise<void>> {
  if (address === undefined) return stop;
  try {
    const listener = await startMetricsListener(registry, parseHttpAddress(address, '--metrics'));
    return async () => {
      await listener.close();
      await stop();
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
