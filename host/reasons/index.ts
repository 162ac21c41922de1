/**
 * Every refusal reason of meterveil: the firmware's catalogues (firmware/reasons/) and the
 * host's, one per domain. A reason is defined in exactly one catalogue; other domains that refuse
 * for the same cause use the same name. docs/reasons.md is generated from this list
 * (`node --import tsx tools/docs/reasons.ts`); test/reasons/ checks both.
 */
import { firmwareCatalogues, type Catalogue, type ReasonOf } from '../../firmware/reasons/index.ts';
import { aggregatorReasons } from './aggregator.ts';
import { brokerReasons } from './broker.ts';
import { cliReasons } from './cli.ts';
import { configReasons } from './config.ts';
import { httpReasons } from './http.ts';
import { mqttReasons } from './mqtt.ts';
import { hostKeyReasons } from './keys.ts';
import { providerReasons } from './provider.ts';
import { storeReasons } from './store.ts';
import { thresholdReasons } from './threshold.ts';
import { tlsReasons } from './tls.ts';

export const hostCatalogues = [
  { id: 'aggregator', domain: 'Aggregator', source: 'host/aggregator/', reasons: aggregatorReasons },
  {
    id: 'provider',
    domain: 'Provider and custodian policy',
    source: 'host/policy/, host/provider/, host/custodian/custodian.ts',
    reasons: providerReasons,
  },
  { id: 'http', domain: 'Provider HTTP API', source: 'host/provider/http-api.ts', reasons: httpReasons },
  { id: 'threshold', domain: 'Threshold decryption', source: 'host/threshold/, host/custodian/', reasons: thresholdReasons },
  { id: 'key-files', domain: 'Key files', source: 'host/paillier/, host/keys/, host/start/', reasons: hostKeyReasons },
  {
    id: 'config',
    domain: 'Config, secrets, provisioning',
    source: 'host/config/, host/provision/, host/policy/slots-file.ts',
    reasons: configReasons,
  },
  {
    id: 'store',
    domain: 'Stores',
    source: 'host/aggregator/store.ts, host/provider/store.ts, host/custodian/store.ts',
    reasons: storeReasons,
  },
  { id: 'broker', domain: 'Embedded broker', source: 'host/broker/embedded.ts', reasons: brokerReasons },
  { id: 'mqtt', domain: 'MQTT connection', source: 'host/mqtt/client.ts', reasons: mqttReasons },
  { id: 'tls', domain: 'TLS and certificates', source: 'host/tls/, host/net/loopback.ts', reasons: tlsReasons },
  {
    id: 'cli',
    domain: 'Command line, processes, simulation',
    source: 'host/cli/, host/start/, host/net/, host/simulate/',
    reasons: cliReasons,
  },
] as const satisfies readonly Catalogue[];

export type HostReason = ReasonOf<(typeof hostCatalogues)[number]>;

export const catalogues: readonly Catalogue[] = [...firmwareCatalogues, ...hostCatalogues];

declare module '../../firmware/errors.ts' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- merged into the firmware's registry
  interface ReasonRegistry extends Record<HostReason, string> {}
}
