/**
 * The simulated fleet of `meterveil start`: every meter of the config runs the real firmware in
 * the XS engine (host/simulate/xs-fleet.ts), with a simulated household sensor whose parameters
 * the simulated feeders share (host/feeder/households.ts). Virtual time follows the wall clock.
 */
import { publicKeyToJson } from '../../firmware/paillier/codec.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { XsFleet } from '../simulate/xs-fleet.ts';
import { meterUser } from '../config/identities.ts';
import { allMeters, brokerUrlFields, type MeterveilConfig } from '../config/schema.ts';
import type { Secrets } from '../config/secrets.ts';
import { householdOf } from '../feeder/households.ts';
import { pemToDerHex } from '../tls/certificates.ts';
import { brokerConnection } from '../tls/files.ts';

export function meterConfigs(config: MeterveilConfig, publicKey: PaillierPublicKey, secrets: Secrets): Record<string, unknown>[] {
  const d = config.provider.decryption;
  const { ca } = brokerConnection(config);
  // Each meter trusts the deployment CA alone (firmware/config/schema.ts, broker.ca).
  const meterCa = ca === undefined ? {} : { ca: pemToDerHex(ca) };
  return allMeters(config).map((meterId) => {
    const household = householdOf(meterId);
    return {
      meterId,
      publicKey: publicKeyToJson(publicKey),
      macKey: secrets.meters[meterId].macKey,
      deviceKey: secrets.meters[meterId].deviceKey,
      broker: {
        ...brokerUrlFields(config.broker.urls),
        username: meterUser(meterId),
        password: secrets.meters[meterId].password,
        ...meterCa,
      },
      groups: config.groups.filter((g) => g.members.includes(meterId)).map((g) => g.id),
      slotSeconds: config.slotSeconds,
      packing: {
        readings: config.packing.readings,
        maxGroupSize: config.packing.maxGroupSize,
        maxPowerWatts: config.packing.maxPowerWatts,
      },
      // One report per slot needs one r^n per slot: a deeper pool only adds work at boot, where
      // 55 meters filling four each in one XS engine held virtual time back by a minute.
      poolCapacity: 1,
      sensor: { kind: 'simulated', ...household },
      ...(d.mode === 'threshold' ? { custodians: d.custodians } : {}),
    };
  });
}

export interface RunningFleet {
  /** When the meters began measuring (Unix ms). */
  startMs: number;
  stop(): Promise<void>;
}

export async function runFleet(
  config: MeterveilConfig,
  publicKey: PaillierPublicKey,
  secrets: Secrets,
  options: { tickMs?: number; onLog?: (meterId: string, line: string) => void; onError?: (e: Error) => void } = {},
): Promise<RunningFleet & { fleet: XsFleet }> {
  const startMs = Date.now();
  const fleet = await XsFleet.start({ configs: meterConfigs(config, publicKey, secrets), startMs, onLog: options.onLog });
  await fleet.boot();
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const tick = () => {
    if (stopped) return;
    running = fleet
      .advanceTo(Math.max(fleet.now, Date.now()))
      // After Ctrl-C the terminal's SIGINT reaches the XS workers too: their end is expected then.
      .catch((e) => {
        if (!stopped) options.onError?.(e as Error);
      })
      .finally(() => {
        if (!stopped) timer = setTimeout(tick, options.tickMs ?? 500);
      });
  };
  let timer = setTimeout(tick, 0);
  return {
    fleet,
    startMs,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await fleet.close();
    },
  };
}
