/**
 * The simulated fleet of `meterveil start --scheme masked`: every meter of the config is a Node
 * meter speaking the masked format (host/simulate/node-meter.ts) with its provisioned keys. Each
 * integrates its household's power (host/feeder/households.ts, the homes the simulated feeders
 * measure) with the firmware's own energy integrator and reports every slot it measured whole.
 * A meter's mask ledger is kept in the data folder (meters/<id>.ledger.json), so that a start
 * after a stop never sends a second value under a mask already used.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToHex, hexToBytes } from '../../firmware/bytes.ts';
import { subSlotMs } from '../../firmware/config/packing.ts';
import { EnergyIntegrator } from '../../firmware/meter/energy.ts';
import { MemoryStorage } from '../../firmware/platform/memory-storage.ts';
import { HouseholdProfile } from '../../firmware/sensors/household.ts';
import { allMeters, type MeterveilConfig } from '../config/schema.ts';
import type { Secrets } from '../config/secrets.ts';
import { householdOf } from '../feeder/households.ts';
import { nodeMeterOf, type NodeMeter } from '../simulate/node-meter.ts';
import type { RunningFleet } from './fleet.ts';

const MS_PER_MINUTE = 60_000;

/** The meter's storage, its ledger written through to a file (mode 0600) at every claim. */
function ledgerStorage(path: string): MemoryStorage {
  const held: Record<string, string> = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as Record<string, string>) : {};
  const initial = Object.entries(held).map(([k, v]) => [k, hexToBytes(v, `${path}: ${k}`)] as [string, Uint8Array]);
  return new MemoryStorage(initial, (key, value) => {
    if (value === undefined) delete held[key];
    else held[key] = bytesToHex(value);
    const tmp = `${path}.tmp`;
    writeFileSync(tmp, JSON.stringify(held) + '\n', { mode: 0o600 });
    renameSync(tmp, path);
  });
}

interface SimulatedMeter {
  meter: NodeMeter;
  profile: HouseholdProfile;
  integrator: EnergyIntegrator;
}

export async function runMaskedFleet(
  config: MeterveilConfig,
  secrets: Secrets,
  options: { tickMs?: number; onError?: (e: Error) => void } = {},
): Promise<RunningFleet> {
  const startMs = Date.now();
  const ledgers = join(config.dataDir, 'meters');
  mkdirSync(ledgers, { recursive: true, mode: 0o700 });
  const subSlot = subSlotMs(config.slotSeconds, config.packing);
  const meters: SimulatedMeter[] = allMeters(config).map((meterId) => ({
    meter: nodeMeterOf(
      { config, secrets },
      meterId,
      config.groups.filter((g) => g.members.includes(meterId)).map((g) => g.id),
      {},
      ledgerStorage(join(ledgers, `${meterId}.ledger.json`)),
    ),
    profile: new HouseholdProfile(householdOf(meterId)),
    integrator: new EnergyIntegrator(subSlot, config.packing.readings, startMs),
  }));
  await Promise.all(meters.map((m) => m.meter.connect()));

  /** Integrates up to `now` at the power of each minute (the profile is constant within one) and reports the slots closed. */
  const advance = (m: SimulatedMeter, now: number) => {
    for (let t = m.integrator.lastSampleMs; t < now;) {
      const next = Math.min(now, (Math.floor(t / MS_PER_MINUTE) + 1) * MS_PER_MINUTE);
      const closed = m.integrator.sample(next, Math.round(m.profile.powerWatts(t) * 1000));
      t = next;
      // A slot measured from its middle is not reported: its readings miss the time before the start.
      for (const s of closed.filter((c) => !c.startedMidSlot))
        // Resolves once every group acknowledged; until then the meter's outbox resends it.
        void m.meter.report(s.slot, s.readings.map(BigInt));
    }
  };
  const tick = () => {
    const now = Date.now();
    for (const m of meters) {
      try {
        advance(m, now);
      } catch (e) {
        options.onError?.(e as Error);
      }
    }
  };
  const timer = setInterval(tick, options.tickMs ?? 500);
  return {
    startMs,
    async stop() {
      clearInterval(timer);
      await Promise.all(meters.map((m) => m.meter.close()));
    },
  };
}
