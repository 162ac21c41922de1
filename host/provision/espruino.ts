/**
 * The configuration an Espruino meter reads from its Storage file `meterveil.json`
 * (firmware/config/masked-schema.ts, docs/espruino.md), for one meter of a masked deployment: its
 * MAC and device keys and broker password from the deployment's secrets, the mask key id, its
 * groups, the slot and packing of the deployment, the number of custodians, and the simulated
 * household the simulated feeders assume for it unless a sensor is given. The meter derives its
 * mask, custodian and acknowledgement keys from the device key itself.
 */
import { fail } from '../../firmware/errors.ts';
import { meterUser } from '../config/identities.ts';
import type { MeterveilConfig } from '../config/schema.ts';
import { custodianIndices, type Secrets } from '../config/secrets.ts';
import { householdOf } from '../feeder/households.ts';

export interface EspruinoMeterConfigJson {
  scheme: 'masked';
  meterId: string;
  keyId: string;
  macKey: string;
  deviceKey: string;
  broker: { url: string; username: string; password: string };
  groups: string[];
  custodians: number;
  slotSeconds: number;
  packing: { readings: number; maxGroupSize: number; maxPowerWatts: number };
  sensor: Record<string, unknown>;
  [field: string]: unknown;
}

/** `extra`: fields of the meter's own (sampleMs, checkpointSeconds, a sensor...), over the derived ones. */
export function espruinoMeterConfig(
  config: MeterveilConfig,
  secrets: Secrets,
  meterId: string,
  extra: Record<string, unknown> = {},
): EspruinoMeterConfigJson {
  if (config.scheme.name !== 'masked') fail('bad-config', 'an Espruino meter needs a masked deployment (config "scheme": "masked")');
  const keys = secrets.meters[meterId] ?? fail('secrets-missing', `no keys for meter ${meterId}`);
  if (keys.macKey === undefined || keys.deviceKey === undefined || keys.password === undefined)
    fail('secrets-missing', `meter ${meterId}: the secrets hold no MAC key, device key or password`);
  const groups = config.groups.filter((g) => g.members.includes(meterId)).map((g) => g.id);
  if (groups.length === 0) fail('bad-config', `no group lists meter ${meterId}`);
  return {
    scheme: 'masked',
    meterId,
    keyId: config.scheme.keyId,
    macKey: keys.macKey,
    deviceKey: keys.deviceKey,
    broker: { url: config.broker.urls[0], username: meterUser(meterId), password: keys.password },
    groups,
    custodians: custodianIndices(config).length,
    slotSeconds: config.slotSeconds,
    packing: { ...config.packing },
    sensor: { kind: 'simulated', ...householdOf(meterId) },
    ...extra,
  };
}
