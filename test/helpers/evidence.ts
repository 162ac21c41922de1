/**
 * Aggregates as an honest aggregator of a threshold deployment makes them: one real report per
 * contributor (encrypted under the key, with one authenticator per custodian derived from the
 * meter's device key), their product, and the evidence message the custodians check.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { hexToBytes } from '../../firmware/bytes.ts';
import { ciphertextFromBytes, ciphertextToBytes } from '../../firmware/paillier/codec.ts';
import type { PaillierPublicKey } from '../../firmware/paillier/public-key.ts';
import { hmacSha256 } from '../../firmware/protocol/mac.ts';
import { deriveCustodianKey } from '../../firmware/protocol/meter-keys.ts';
import { encodeReport } from '../../firmware/protocol/report.ts';
import type { Secrets } from '../../host/config/secrets.ts';
import { encodeAggregate, type Aggregate } from '../../host/protocol/aggregate.ts';
import { encodeEvidence } from '../../host/protocol/evidence.ts';
import { aggregateTopic, evidenceTopic } from '../../host/protocol/topics.ts';

export interface MeterKeys {
  macKey(meterId: string): Uint8Array;
  deviceKey(meterId: string): Uint8Array;
  custodians: number;
}

/** Keys of a deployment's secrets file. */
export function deploymentKeys(secrets: Secrets, custodians: number): MeterKeys {
  return {
    macKey: (m) => hexToBytes(secrets.meters[m].macKey),
    deviceKey: (m) => hexToBytes(secrets.meters[m].deviceKey!),
    custodians,
  };
}

/** Fixed keys per meter id, for custodians built without a deployment. */
export function fixedKeys(custodians: number): MeterKeys {
  const hash = (label: string, m: string) => new Uint8Array(createHash('sha256').update(`${label}/${m}`).digest());
  return { macKey: (m) => hash('mac', m), deviceKey: (m) => hash('device', m), custodians };
}

export const custodianKeyOf = (keys: MeterKeys, index: number) => (meterId: string) =>
  deriveCustodianKey(keys.deviceKey(meterId), index, hmacSha256);

export function reportOf(key: PaillierPublicKey, keys: MeterKeys, meterId: string, slot: number, reading: bigint, seq = 1): Uint8Array {
  const custodianKeys = Array.from({ length: keys.custodians }, (_, i) => custodianKeyOf(keys, i + 1)(meterId));
  const ciphertext = ciphertextToBytes(
    key,
    key.encrypt(reading, (n) => new Uint8Array(randomBytes(n))),
  );
  return encodeReport(
    { keyId: key.keyId, meterId, slot, seq, dropped: 0, packed: 1, ciphertext },
    keys.macKey(meterId),
    hmacSha256,
    custodianKeys,
  );
}

export interface VerifiableAggregate {
  aggregate: Aggregate;
  /** The contributors' reports, in contributor order. */
  reports: Uint8Array[];
  evidence: Uint8Array;
}

export function verifiableAggregate(
  key: PaillierPublicKey,
  keys: MeterKeys,
  groupId: string,
  slot: number,
  readings: Record<string, bigint>,
): VerifiableAggregate {
  const contributors = Object.keys(readings).sort();
  const reports = contributors.map((m) => reportOf(key, keys, m, slot, readings[m]));
  const ciphertexts = reports.map((r) => ciphertextFromBytes(key, r.subarray(26 + r[10], 26 + r[10] + key.ciphertextBytes)));
  const aggregate: Aggregate = {
    groupId,
    slot,
    keyId: key.keyId,
    packed: 1,
    count: contributors.length,
    contributors,
    ciphertext: ciphertextToBytes(key, key.arith.product(ciphertexts)),
  };
  return { aggregate, reports, evidence: encodeEvidence({ aggregate, reports }) };
}

/** As the aggregator of its group: the evidence (for the custodians), then the aggregate. */
export async function publishVerifiable(client: MqttClient, { aggregate, evidence }: VerifiableAggregate): Promise<void> {
  await client.publishAsync(evidenceTopic(aggregate.groupId), Buffer.from(evidence), { qos: 1 });
  await client.publishAsync(aggregateTopic(aggregate.groupId), Buffer.from(encodeAggregate(aggregate)), { qos: 1 });
}
