/**
 * The role commands: broker, aggregator, provider, feeder. Each runs until SIGINT or SIGTERM and
 * then stops cleanly (flush, close connections and the store).
 */
import type { Command } from 'commander';
import { cliAction, usage } from '../cli/action.ts';
import { runAggregator, runAggregatorHost } from '../aggregator/run.ts';
import { findAggregatorHost } from '../config/placement.ts';
import { deploymentAcl } from '../broker/deployment-acl.ts';
import { sessionQueueBound, writeMosquittoFiles } from '../broker/mosquitto.ts';
import { runMosquitto } from '../broker/run-mosquitto.ts';
import { runNatsNode } from '../broker/run-nats.ts';
import { brokerAccess, runBroker } from '../broker/run.ts';
import { brokerServerTls, brokerUsesTls, readPem } from '../tls/files.ts';
import { loadConfig } from '../config/load.ts';
import { brokerAddress, MAX_BROKER_URLS } from '../config/schema.ts';
import { brokerUsers, readSecrets } from '../config/secrets.ts';
import { runFeeders } from '../feeder/run.ts';
import { decryptedFields, describeDecrypted } from '../provider/describe.ts';
import { roleLogger } from '../log/logger.ts';
import { runProvider } from '../provider/run.ts';
import { announceReady } from '../cli/role-channel.ts';
import { addMetricsOption, withMetrics } from '../cli/metrics-option.ts';
import { brokerMetrics } from '../broker/metrics.ts';
import { untilSignal } from '../cli/until-signal.ts';
import {
  DEFAULT_MASKED_CUSTODIANS_START_CONFIG,
  DEFAULT_MASKED_START_CONFIG,
  DEFAULT_START_CONFIG,
  DEFAULT_THRESHOLD_START_CONFIG,
  startAll,
} from './start.ts';

function number(text: string, what: string): number {
  const n = Number(text);
  if (text.trim() === '' || !Number.isFinite(n) || n < 0) usage('bad-argument', `${what} must be a non-negative number`);
  return n;
}

/**
 * What `start` runs without --config, --threshold or --single-key: custodians that check every
 * aggregate report by report, so that neither the provider nor an aggregator can have one
 * household's reading decrypted (docs/keys.md, "Verifiable aggregates").
 */
const DEFAULT_START_THRESHOLD = { threshold: 2, custodians: 3 };

function parseThreshold(text: string): { threshold: number; custodians: number } {
  const m = /^([1-9][0-9]?)-of-([1-9][0-9]?)$/.exec(text) ?? usage('bad-argument', '--threshold must look like 2-of-3');
  const threshold = Number(m[1]);
  const custodians = Number(m[2]);
  if (threshold > custodians) usage('bad-argument', '--threshold: t must not exceed n');
  return { threshold, custodians };
}

/** Masked custodians are n of n: two at least (one would be single-key mode), as many as a threshold key's. */
function custodianCount(text: string): number {
  const n = Number(text);
  if (!/^[0-9]{1,2}$/.test(text) || n < 2) usage('bad-argument', '--custodians must be a number of custodians from 2 to 99');
  return n;
}

interface SchemeOptions {
  scheme?: string;
  custodians?: string;
  threshold?: string;
  cluster?: string;
}

/** --scheme masked [--custodians N]: undefined for Paillier (the default). */
function maskedOf(opts: SchemeOptions): { custodians?: number } | undefined {
  if (opts.scheme !== undefined && opts.scheme !== 'paillier' && opts.scheme !== 'masked')
    usage('bad-argument', '--scheme must be paillier or masked');
  if (opts.scheme !== 'masked') {
    if (opts.custodians !== undefined) usage('bad-argument', '--custodians goes with --scheme masked; Paillier takes --threshold t-of-n');
    return undefined;
  }
  if (opts.threshold !== undefined) usage('bad-argument', '--scheme masked is n of n: give --custodians N, not --threshold');
  if (opts.cluster !== undefined) usage('bad-argument', '--scheme masked runs on the embedded broker; for a cluster give --config');
  return opts.custodians === undefined ? {} : { custodians: custodianCount(opts.custodians) };
}

function clusterSize(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 3 || n > MAX_BROKER_URLS)
    usage('bad-argument', `--cluster must be a number of nodes in 3..${MAX_BROKER_URLS}`);
  return n;
}

const THEFT_HELP = {
  feeder: "simulated theft: an unmetered load on this feeder's line only (with --theft-watts)",
  watts: 'the stolen load in watts',
  from: 'the theft starts with this slot number (default: at once)',
};

interface TheftOptions {
  theftFeeder?: string;
  theftWatts?: string;
  theftFrom?: string;
}

interface FeederOptions extends TheftOptions {
  config: string;
  feeder?: string;
  lineLoss: string;
  unmeteredWatts: string;
  connectedSince?: string;
  metrics?: string;
}

function theftOf(opts: TheftOptions) {
  if ((opts.theftFeeder === undefined) !== (opts.theftWatts === undefined))
    usage('bad-argument', '--theft-feeder and --theft-watts go together');
  if (opts.theftFeeder === undefined) {
    if (opts.theftFrom !== undefined) usage('bad-argument', '--theft-from needs --theft-feeder and --theft-watts');
    return undefined;
  }
  const fromSlot = opts.theftFrom === undefined ? 0 : number(opts.theftFrom, 'theft-from');
  if (!Number.isSafeInteger(fromSlot)) usage('bad-argument', '--theft-from must be a slot number');
  return { feederId: opts.theftFeeder, watts: number(opts.theftWatts!, 'theft watts'), fromSlot };
}

export function registerRoles(program: Command): void {
  const broker = program
    .command('broker')
    .description('run the embedded MQTT broker (aedes) with per-party credentials and ACLs')
    .option('-c, --config <file>', 'config file', 'meterveil.json')
    .option('--mosquitto-files <dir>', 'instead, write mosquitto.conf, a password file and an ACL file into DIR')
    .option('--mosquitto <dir>', 'instead, run mosquitto with the broker folder that provision wrote (OUT/broker); no --config needed')
    .option('--nats <file>', 'instead, run one node of the NATS cluster with its config (OUT/broker/nats/NAME.conf); no --config needed');
  addMetricsOption(broker).action(
    cliAction(async (opts: { config: string; mosquittoFiles?: string; mosquitto?: string; nats?: string; metrics?: string }) => {
      const log = roleLogger('broker');
      if (opts.mosquitto && opts.nats) usage('bad-argument', '--mosquitto and --nats exclude each other');
      if (opts.mosquitto || opts.nats) {
        const source = opts.nats ? 'nats-server' : 'mosquitto';
        const child = opts.nats
          ? await runNatsNode(opts.nats, (line) => log.info({ source }, line))
          : await runMosquitto(opts.mosquitto!, (line) => log.info({ source }, line));
        const stopped = untilSignal(() => child.stop());
        log.info(`${source} listening on ${child.listeners.join(', ')}`);
        await announceReady();
        await Promise.race([stopped, child.exited]);
        return;
      }
      const config = loadConfig(opts.config);
      if (opts.mosquittoFiles) {
        const { host, port } = brokerAddress(config);
        const files = writeMosquittoFiles(opts.mosquittoFiles, {
          host,
          port,
          users: brokerUsers(readSecrets(config.keys.secrets)),
          acl: deploymentAcl(config),
          // mqtts://: a TLS listener with the broker's certificate, which the roles check against tls.ca.
          tls: brokerUsesTls(config) ? { ca: readPem(config.tls.ca, 'the CA certificate'), ...brokerServerTls(config)! } : undefined,
          maxQueuedMessages: sessionQueueBound(config),
        });
        log.info(`wrote ${files.configPath}; run: mosquitto -c ${files.configPath}`);
        return;
      }
      const broker = await runBroker(config, log);
      // SIGHUP: the config and secrets are read again, for the users and permissions of a group
      // moved to another aggregator host (docs/deployment.md); the address and TLS stay.
      const reload = () => {
        try {
          broker.reload(brokerAccess(loadConfig(opts.config)));
          log.info('broker: users and permissions reloaded');
        } catch (e) {
          log.error({ reason: (e as { reason?: string }).reason }, `broker: reload refused, the old table stays: ${(e as Error).message}`);
        }
      };
      process.on('SIGHUP', reload);
      const stopped = untilSignal(
        await withMetrics(brokerMetrics(broker), opts.metrics, () => {
          process.off('SIGHUP', reload);
          return broker.close();
        }),
      );
      log.info(`broker listening on ${config.broker.url}`);
      await announceReady();
      await stopped;
    }),
  );

  addMetricsOption(
    program
      .command('aggregator')
      .description("run one group's aggregator (--group), or an aggregator host's groups in one process (--host, config aggregators)")
      .option('-c, --config <file>', 'config file', 'meterveil.json')
      .option('-g, --group <id>', 'group id')
      .option('--host <name>', 'aggregator host name (config aggregators): its groups over one broker connection'),
  ).action(
    cliAction(async (opts: { config: string; group?: string; host?: string; metrics?: string }) => {
      if ((opts.group === undefined) === (opts.host === undefined))
        usage('bad-argument', 'give --group <id> or --host <name> (one of them)');
      const config = loadConfig(opts.config);
      const log = roleLogger('aggregator', opts.host === undefined ? { group: opts.group! } : { host: opts.host });
      const running =
        opts.host === undefined ? await runAggregator(config, opts.group!, { log }) : await runAggregatorHost(config, opts.host, { log });
      const stopped = untilSignal(await withMetrics(running.metrics, opts.metrics, () => running.stop()));
      log.info(
        opts.host === undefined
          ? `aggregator ${opts.group} running`
          : `aggregator host ${opts.host} running groups ${findAggregatorHost(config.aggregators, opts.host).groups.join(', ')}`,
      );
      await announceReady();
      await stopped;
    }),
  );

  program
    .command('provider')
    .description('run the provider: policy, decryption, feeder comparison, HTTP API')
    .option('-c, --config <file>', 'config file', 'meterveil.json')
    .option('-p, --port <port>', 'HTTP port (overrides the config)')
    .action(
      cliAction(async (opts: { config: string; port?: string }) => {
        const log = roleLogger('provider');
        const config = loadConfig(opts.config);
        const running = await runProvider(config, {
          log,
          httpPort: opts.port === undefined ? undefined : number(opts.port, 'port'),
          // A group's total is what the provider exists for; one meter's reading is never in it.
          onDecrypted: (d) => log.info(decryptedFields(d), describeDecrypted(d, config.slotSeconds)),
        });
        const stopped = untilSignal(() => running.stop());
        log.info(`provider API on ${running.apiUrl}/api/health`);
        await announceReady();
        await stopped;
      }),
    );

  const feeder = program
    .command('feeder')
    .description("run simulated feeder meters (all of the config's, or one)")
    .option('-c, --config <file>', 'config file', 'meterveil.json')
    .option('-f, --feeder <id>', 'only this feeder')
    .option('--line-loss <share>', 'share of energy lost on the line', '0.02')
    .option('--unmetered-watts <watts>', 'simulated unmetered load (theft) on the line', '0')
    .option('--connected-since <ms>', 'simulated households draw power from this Unix time in ms (when their simulated meters started)')
    .option('--theft-feeder <id>', THEFT_HELP.feeder)
    .option('--theft-watts <watts>', THEFT_HELP.watts)
    .option('--theft-from <slot>', THEFT_HELP.from);
  addMetricsOption(feeder).action(
    cliAction(async (opts: FeederOptions) => {
      const log = roleLogger('feeder');
      const running = await runFeeders(loadConfig(opts.config), {
        theft: theftOf(opts),
        feederIds: opts.feeder ? [opts.feeder] : undefined,
        lineLoss: number(opts.lineLoss, 'line loss'),
        unmeteredWatts: number(opts.unmeteredWatts, 'unmetered watts'),
        connectedSinceMs: opts.connectedSince === undefined ? undefined : number(opts.connectedSince, 'connected-since'),
      });
      const stopped = untilSignal(await withMetrics(running.metrics, opts.metrics, () => running.stop()));
      log.info(`${running.feeders.length} feeder meter(s) running`);
      await announceReady();
      await stopped;
    }),
  );

  program
    .command('start')
    .description('run the whole pipeline with a simulated fleet (keys and a demo config are created on first run)')
    .option(
      '-c, --config <file>',
      `config file, whose provider.decryption says the mode (default: ${DEFAULT_THRESHOLD_START_CONFIG}, with --single-key ${DEFAULT_START_CONFIG}; written on first run)`,
    )
    .option('--no-simulate', 'do not run the simulated fleet')
    .option(
      '--threshold <t-of-n>',
      'threshold decryption by custodians that verify every aggregate report by report (the default, 2-of-3; custodians run as child processes; the provider holds no private key)',
    )
    .option('--single-key', 'the provider holds the private key and decrypts alone; it trusts the aggregators to multiply honestly')
    .option(
      '--scheme <name>',
      `paillier (the default) or masked: meters add a mask to their readings instead of encrypting them (default config: ${DEFAULT_MASKED_START_CONFIG}; the provider holds the mask keys)`,
    )
    .option(
      '--custodians <n>',
      `with --scheme masked: n custodians each hold a part of every mask and verify every aggregate, all n needed (default config: ${DEFAULT_MASKED_CUSTODIANS_START_CONFIG})`,
    )
    .option(
      '--cluster <nodes>',
      'the broker tier as a NATS cluster of this many nodes (nats-server processes) on loopback, instead of the embedded broker',
    )
    .option('--theft-feeder <id>', THEFT_HELP.feeder)
    .option('--theft-watts <watts>', THEFT_HELP.watts)
    .option('--theft-from <slot>', THEFT_HELP.from)
    .action(
      cliAction(async (opts: { config?: string; simulate: boolean; singleKey?: boolean } & SchemeOptions & TheftOptions) => {
        const log = roleLogger('start');
        if (opts.singleKey && opts.threshold !== undefined) usage('bad-argument', '--single-key and --threshold exclude each other');
        const masked = maskedOf(opts);
        if (opts.singleKey && masked?.custodians !== undefined) usage('bad-argument', '--single-key and --custodians exclude each other');
        const threshold =
          opts.threshold !== undefined
            ? parseThreshold(opts.threshold)
            : opts.singleKey || opts.config !== undefined || masked
              ? undefined
              : DEFAULT_START_THRESHOLD;
        const stop = await startAll({
          config: opts.config,
          simulate: opts.simulate,
          threshold,
          singleKey: opts.singleKey,
          theft: theftOf(opts),
          cluster: opts.cluster === undefined ? undefined : clusterSize(opts.cluster),
          masked,
          log,
        });
        await announceReady();
        await untilSignal(async () => {
          log.info('stopping...');
          await stop();
          log.info('stopped');
        });
      }),
    );
}
