/** Starts the simulated feeder meters of the config (all, or the ones named), one connection each. */
import { connected, connectRole, endClient } from '../mqtt/client.ts';
import { brokerConnection } from '../tls/files.ts';
import { feederUser } from '../config/identities.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { readSecrets, servicePassword } from '../config/secrets.ts';
import { fail } from '../../firmware/errors.ts';
import { Feeder } from './feeder.ts';
import { householdOf } from './households.ts';
import { feederEnergyMwh, type Theft } from './physics.ts';
import { slotAt } from '../protocol/slots.ts';
import { feederMetrics } from './metrics.ts';
import type { Registry } from '../metrics/registry.ts';

export interface FeederSimulation {
  lineLoss?: number;
  unmeteredWatts?: number;
  connectedSinceMs?: number;
  /** An unmetered load on one feeder's line from a slot on: what the provider's comparison must catch. */
  theft?: Theft & { feederId: string };
}

export async function runFeeders(
  config: MeterveilConfig,
  options: FeederSimulation & { feederIds?: string[] } = {},
): Promise<{ feeders: Feeder[]; metrics: Registry; stop(): Promise<void> }> {
  const secrets = readSecrets(config.keys.secrets);
  const known = [...new Set(config.groups.map((g) => g.feeder))];
  const ids = options.feederIds ?? known;
  for (const id of ids) if (!known.includes(id)) fail('unknown-feeder', `no group has feeder "${id}"`);
  const { theft } = options;
  if (theft && !known.includes(theft.feederId)) fail('unknown-feeder', `theft: no group has feeder "${theft.feederId}"`);
  const started: { feeder: Feeder; client: ReturnType<typeof connectRole> }[] = [];
  for (const feederId of ids) {
    const members = [...new Set(config.groups.filter((g) => g.feeder === feederId).flatMap((g) => g.members))];
    const physics = {
      households: members.map(householdOf),
      slotSeconds: config.slotSeconds,
      lineLoss: options.lineLoss ?? 0.02,
      unmeteredWatts: options.unmeteredWatts ?? 0,
      connectedSinceMs: options.connectedSinceMs,
      theft: theft?.feederId === feederId ? theft : undefined,
    };
    const user = feederUser(feederId);
    const client = connectRole({
      ...brokerConnection(config),
      username: user,
      password: servicePassword(secrets, user),
      persistent: false,
    });
    await connected(client);
    const feeder = new Feeder({
      feederId,
      slotSeconds: config.slotSeconds,
      client,
      measure: (slot) => feederEnergyMwh(physics, slot),
      firstSlot: options.connectedSinceMs === undefined ? undefined : slotAt(options.connectedSinceMs, config.slotSeconds),
    });
    feeder.start();
    started.push({ feeder, client });
  }
  return {
    feeders: started.map((s) => s.feeder),
    metrics: feederMetrics(started.map((s) => s.feeder)),
    async stop() {
      for (const s of started) s.feeder.stop();
      await Promise.all(started.map((s) => endClient(s.client)));
    },
  };
}
