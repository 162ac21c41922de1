/** Valid meter configurations for tests (raw JSON, as provisioning writes them). */
import { randomBytes } from 'node:crypto';
import { publicKeyToJson } from '../../../firmware/paillier/codec.ts';
import type { PaillierPublicKey } from '../../../firmware/paillier/public-key.ts';

export function rawMeterConfig(
  publicKey: PaillierPublicKey,
  brokerUrl: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    meterId: 'meter-1',
    publicKey: publicKeyToJson(publicKey),
    macKey: randomBytes(32).toString('hex'),
    deviceKey: randomBytes(32).toString('hex'),
    broker: { url: brokerUrl },
    groups: ['feeder-a'],
    slotSeconds: 60,
    sampleMs: 1000,
    sensor: { kind: 'simulated', seed: 7, yearlyKwh: 4000, utcOffsetMinutes: 60 },
    ...overrides,
  };
}
