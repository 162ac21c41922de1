/**
 * The embedded broker as Prometheus metrics (docs/pipeline.md, "Metrics"): connections and
 * packets refused by reason, clients connected, messages taken. No topic is a label: topics
 * name meters.
 */
import { byLabel, readCounter, readGauge, roleRegistry, type Registry } from '../metrics/registry.ts';
import type { EmbeddedBroker } from './embedded.ts';

export function brokerMetrics(broker: EmbeddedBroker): Registry {
  const registry = roleRegistry({ role: 'broker' });
  readCounter({
    registry,
    name: 'meterveil_broker_refused_total',
    help: 'connections, publications and subscriptions refused, by reason',
    labelNames: ['reason'],
    read: () => byLabel('reason', broker.refusals),
  });
  readGauge({ registry, name: 'meterveil_broker_clients', help: 'clients connected now', read: () => [[{}, broker.connectedClients()]] });
  readCounter({
    registry,
    name: 'meterveil_broker_messages_published_total',
    help: 'messages published by clients and taken by the broker',
    read: () => [[{}, broker.published()]],
  });
  return registry;
}
