/**
 * `meterveil start` (and `npm start`): the whole pipeline on one machine. The broker and the
 * simulated fleet run in this process; the provider, one aggregator per group (or per aggregator
 * host, config aggregators), the feeder meters and, in threshold mode, each custodian run as child processes, exactly as they would on separate
 * machines, so that one crashing (or being killed) does not take the others down and each has its
 * own event loop.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ensureSecrets } from '../config/secrets.ts';
import { runBroker } from '../broker/run.ts';
import { loadConfig } from '../config/load.ts';
import { fail } from '../../firmware/errors.ts';
import { demoSharePath, provision } from './provision.ts';
import { runFleet, type RunningFleet } from './fleet.ts';
import { runMaskedFleet } from './masked-fleet.ts';
import { Supervisor } from './supervisor.ts';
import { takePassphraseFromEnv } from '../keys/passphrase.ts';
import { writeDemoConfigIfAbsent, type DemoMasked, type DemoThreshold } from './demo-config.ts';
import type { EmbeddedBroker } from '../broker/embedded.ts';
import { slotStartMs } from '../protocol/slots.ts';
import type { FeederSimulation } from '../feeder/run.ts';
import { brokerMetrics } from '../broker/metrics.ts';
import { startMetricsListener } from '../metrics/listener.ts';
import type { HttpListener } from '../net/http-server.ts';
import { forwardLogLine, roleLogger, type RoleLog } from '../log/logger.ts';
import { ensureTlsFiles } from '../tls/files.ts';
import { ensureReaderTokens, readerTokensPath } from './api-readers.ts';
import { startNatsCluster } from './cluster.ts';

export const DEFAULT_START_CONFIG = './data/meterveil.json';
/** Threshold mode's own default folder: its keys differ from the single-key demo's. */
export const DEFAULT_THRESHOLD_START_CONFIG = './data-threshold/meterveil.json';
/** With --cluster: its broker section differs. */
export const DEFAULT_CLUSTER_START_CONFIG = './data-cluster/meterveil.json';
/** With --scheme masked, and with --custodians too: no Paillier key, mask keys of their own. */
export const DEFAULT_MASKED_START_CONFIG = './data-masked/meterveil.json';
export const DEFAULT_MASKED_CUSTODIANS_START_CONFIG = './data-masked-custodians/meterveil.json';

function defaultConfigPath(o: { threshold?: DemoThreshold; cluster?: number; masked?: DemoMasked }): string {
  if (o.masked) return o.masked.custodians ? DEFAULT_MASKED_CUSTODIANS_START_CONFIG : DEFAULT_MASKED_START_CONFIG;
  return o.cluster ? DEFAULT_CLUSTER_START_CONFIG : o.threshold ? DEFAULT_THRESHOLD_START_CONFIG : DEFAULT_START_CONFIG;
}

export async function startAll(options: {
  config?: string;
  simulate: boolean;
  /** Threshold mode with this many custodians: written into the demo config, checked against a given one. */
  threshold?: DemoThreshold;
  /** Single-key mode asked for by name: a given config in threshold mode is refused, not run. */
  singleKey?: boolean;
  /** The start process's own log (role start). */
  log: RoleLog;
  /** A simulated theft on one feeder's line: what the provider's comparison must catch. */
  theft?: FeederSimulation['theft'];
  /** A NATS cluster of this many nodes on loopback: written into the demo config, checked against a given one. */
  cluster?: number;
  /** The masked scheme (--scheme masked), with n custodians (--custodians): written into the demo config, checked against a given one. */
  masked?: DemoMasked;
}): Promise<() => Promise<void>> {
  const { log, threshold, cluster, masked } = options;
  const configPath = resolve(options.config ?? defaultConfigPath(options));
  if (!options.config && writeDemoConfigIfAbsent(configPath, { threshold, clusterNodes: cluster, masked }))
    log.info(`wrote a demo config to ${configPath}`);
  const config = loadConfig(configPath);
  if (masked && config.scheme.name !== 'masked')
    fail('bad-argument', `--scheme masked, but ${configPath} has scheme "${config.scheme.name}"; edit it or use another config`);
  if (cluster !== undefined && config.broker.cluster?.routes.length !== cluster)
    fail(
      'bad-argument',
      `--cluster ${cluster}, but ${configPath} has ${config.broker.cluster ? `a cluster of ${config.broker.cluster.routes.length} nodes` : 'no broker.cluster'}; edit it or use another config`,
    );
  const decryption = config.provider.decryption;
  if (
    threshold &&
    (decryption.mode !== 'threshold' || decryption.threshold !== threshold.threshold || decryption.custodians !== threshold.custodians)
  ) {
    fail(
      'bad-argument',
      `--threshold ${threshold.threshold}-of-${threshold.custodians} differs from provider.decryption in ${configPath}; edit it (a new mode needs a new data folder: keys differ)`,
    );
  }
  if (masked?.custodians !== undefined && (decryption.mode !== 'threshold' || decryption.custodians !== masked.custodians))
    fail(
      'bad-argument',
      `--custodians ${masked.custodians} differs from provider.decryption in ${configPath}; edit it (a new mode needs a new data folder: keys differ)`,
    );
  if (options.singleKey && decryption.mode !== 'single') {
    fail(
      'bad-argument',
      `--single-key, but provider.decryption in ${configPath} is threshold mode; drop --single-key or use another config`,
    );
  }
  if (options.theft && !config.groups.some((g) => g.feeder === options.theft!.feederId))
    fail('unknown-feeder', `--theft-feeder: no group has feeder "${options.theft.feederId}"`);
  const isMasked = config.scheme.name === 'masked';
  // A masked deployment has no Paillier key: each meter's mask keys derive from its device key in the secrets.
  const { publicKey, secrets, createdKeys } = isMasked
    ? { publicKey: undefined, createdKeys: !existsSync(config.keys.secrets), secrets: ensureSecrets(config) }
    : await provision(config);
  const certificates = await ensureTlsFiles(config);
  if (certificates.length > 0)
    log.info(`made a certificate authority and certificates for the broker and the API in ${dirname(config.tls.ca)}`);
  const readers = ensureReaderTokens(config);
  const keyDir = config.keys.publicKey.replace(/\/[^/]+$/, '');
  if (createdKeys && isMasked) {
    log.info(
      `made the meters' device keys in ${config.keys.secrets}: each meter's mask keys derive from it, for ${decryption.mode === 'threshold' ? `each of the ${decryption.custodians} custodians` : 'the provider'}; no Paillier key`,
    );
  } else if (createdKeys) {
    log.info(
      decryption.mode === 'threshold'
        ? `generated a 2048-bit threshold key (${decryption.threshold} of ${decryption.custodians} custodians) in ${keyDir}; the provider holds no private key`
        : `generated a 2048-bit Paillier key pair in ${keyDir}`,
    );
  }

  let broker: EmbeddedBroker | undefined;
  let brokerListener: HttpListener | undefined;
  let fleet: RunningFleet | undefined;
  // The broker takes the first metrics port (when it runs here), each child role the next one.
  const metrics = config.metrics;
  let metricsPort = metrics?.port ?? 0;
  const metricsArgs = (): string[] => (metrics ? ['--metrics', `${metrics.host}:${++metricsPort}`] : []);
  // Only the custodians unseal a key (their shares); the provider, aggregators, feeders and the XS
  // workers of the fleet never see the passphrase.
  const supervisor = new Supervisor(join(config.dataDir, 'logs'), { log, forward: forwardLogLine }, takePassphraseFromEnv());
  const stop = async () => {
    await fleet?.stop();
    await supervisor.stopAll();
    await brokerListener?.close();
    await broker?.close();
  };
  try {
    if (config.broker.cluster) {
      const nodes = await startNatsCluster(config, secrets, supervisor);
      log.info(`NATS cluster ${nodes.join(', ')} on ${config.broker.urls.join(', ')}`);
    } else if (config.broker.embedded) {
      broker = await runBroker(config, roleLogger('broker'));
      log.info(`broker (embedded) on ${config.broker.url}`);
      if (metrics) brokerListener = await startMetricsListener(brokerMetrics(broker), metrics);
    }
    const args = ['--config', configPath];
    if (decryption.mode === 'threshold') {
      await Promise.all(
        Array.from({ length: decryption.custodians }, (_, i) => i + 1).map((index) =>
          supervisor.start({
            name: `custodian-${index}`,
            // A masked custodian holds mask keys in the secrets file, no sealed share.
            args: [
              'custodian',
              ...(isMasked ? ['--index', String(index)] : ['--share', demoSharePath(decryption, index)]),
              ...args,
              ...metricsArgs(),
            ],
            show: /refused/,
            unsealsKey: !isMasked,
          }),
        ),
      );
      log.info(
        isMasked
          ? `custodians 1..${decryption.custodians} running; all ${decryption.custodians} needed to remove the masks`
          : `custodians 1..${decryption.custodians} running; ${decryption.threshold} needed to decrypt`,
      );
    }
    await supervisor.start({
      name: 'provider',
      args: ['provider', ...args],
      show: /provider API on|slot \d+|ALERT|refused/,
    });
    // One process per aggregator host where the config places groups (config aggregators), else per group.
    const aggregators =
      config.aggregators.length > 0
        ? config.aggregators.map((h) => ({
            name: `aggregator-host-${h.name}`,
            select: ['--host', h.name],
            what: `${h.name}: ${h.groups.join(', ')}`,
          }))
        : config.groups.map((g) => ({ name: `aggregator-${g.id}`, select: ['--group', g.id], what: g.id }));
    await Promise.all(
      aggregators.map((a) =>
        supervisor.start({
          name: a.name,
          args: ['aggregator', ...args, ...a.select, ...metricsArgs()],
          show: /suppressed|not stored/,
        }),
      ),
    );
    log.info(`aggregators for ${aggregators.map((a) => a.what).join('; ')}`);
    const feederArgs = ['feeder', ...args, ...metricsArgs()];
    if (options.simulate) {
      const meters = new Set(config.groups.flatMap((g) => g.members)).size;
      const onError = (e: Error) => log.error(`fleet: ${e.message}`);
      if (isMasked) {
        log.info(`starting ${meters} simulated meters (Node meters sending masked reports)...`);
        fleet = await runMaskedFleet(config, secrets, { onError });
      } else {
        log.info(`starting ${meters} simulated meters (real firmware in the XS engine)...`);
        fleet = await runFleet(config, publicKey!, secrets, { onError });
      }
      // The simulated homes are connected when their meters start: the feeders read nothing before.
      feederArgs.push('--connected-since', String(fleet.startMs));
      // Meters report from the first slot they measure whole.
      const first = Math.ceil(fleet.startMs / 1000 / config.slotSeconds);
      const time = new Date(slotStartMs(first, config.slotSeconds)).toISOString().slice(11, 19);
      log.info(
        { slot: first },
        `${meters} meters running; they report from slot ${first} ${time} on, and a slot's totals come once every meter has reported it, at the latest ${config.latenessSeconds} s after its end (${config.outageSeconds} s while fewer than k of its group's meters are missing)`,
      );
    }
    const { theft } = options;
    if (theft) {
      feederArgs.push('--theft-feeder', theft.feederId, '--theft-watts', String(theft.watts), '--theft-from', String(theft.fromSlot));
      log.info(
        `simulated theft: ${theft.watts} W unmetered on ${theft.feederId} ${theft.fromSlot === 0 ? 'from the start' : `from slot ${theft.fromSlot}`}`,
      );
    }
    await supervisor.start({ name: 'feeders', args: feederArgs, show: /^$/ });
    log.info(`feeders ${config.groups.map((g) => g.feeder).join(', ')}`);
    const http = `${config.http.tls ? 'https' : 'http'}://${config.http.host.includes(':') ? `[${config.http.host}]` : config.http.host}:${config.http.port}`;
    // The token rides in the fragment, which a browser keeps to itself: the page reads it, no request carries it.
    log.info(
      `dashboard: ${http}/#token=${readers.get('dashboard')}  (open it in a browser: live group load against the feeders, alerts, coverage)`,
    );
    log.info(
      `API: ${http}/api/health with "Authorization: Bearer <token>" (the scripts token is in ${readerTokensPath(config)}; groups, series, refusals, alerts under /api)`,
    );
    if (metrics) {
      const first = metrics.port + (broker ? 0 : 1);
      log.info(
        `metrics: ${http}/metrics (provider), http://${metrics.host}:${first}..${metricsPort}/metrics (${broker ? 'broker, ' : ''}${decryption.mode === 'threshold' ? 'custodians, ' : ''}aggregators, feeders)`,
      );
    }
    log.info('Ctrl-C stops everything');
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}
