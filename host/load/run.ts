/**
 * `meterveil load`: a bounded load on this machine. It generates a layout (host/load/layout.ts),
 * provisions it (a real 2048-bit key, every party's secrets), computes the run's one-time
 * randomness, starts the broker (aedes in its own process, or mosquitto), the provider, one
 * aggregator per group and the feeders as child processes, has N simulated meters report for the
 * run's slots (host/load/generator.ts), and checks the provider's store: every slot decrypted
 * once with the expected count and totals. It measures what the scale benchmark reports.
 * Everything listens and connects on loopback; nothing of the run outlives it (its folder is
 * removed unless kept).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fail } from '../../firmware/errors.ts';
import { slotPackingFor } from '../../firmware/config/packing.ts';
import { deploymentAcl } from '../broker/deployment-acl.ts';
import { sessionQueueBound, writeMosquittoFiles } from '../broker/mosquitto.ts';
import { runMosquitto, type RunningMosquitto } from '../broker/run-mosquitto.ts';
import { loadConfig } from '../config/load.ts';
import { brokerAddress } from '../config/schema.ts';
import { brokerUsers, custodianIndices, meterAckKey, meterCustodianKey, meterMacKey } from '../config/secrets.ts';
import type { RoleLog } from '../log/logger.ts';
import { isLoopbackHost } from '../net/loopback.ts';
import { slotAt, slotEndMs } from '../protocol/slots.ts';
import { providerStorePath } from '../provider/run.ts';
import { ensureReaderTokens } from '../start/api-readers.ts';
import { startNatsCluster } from '../start/cluster.ts';
import { natsReady } from '../mqtt/brokers-ready.ts';
import { demoSharePath, provision } from '../start/provision.ts';
import { Supervisor } from '../start/supervisor.ts';
import { LoadGenerator, type LoadIdentity } from './generator.ts';
import { writeLoadLayout, type LoadBroker } from './layout.ts';
import { processCpuMs, processRssBytes, withChildren } from './process-usage.ts';
import { OneTimePool } from './randomness-pool.ts';
import { percentile, readSeries, verify, type Verdict } from './verify.ts';

export const LOAD_LIMITS = { meters: 200_000, durationSeconds: 3_600, heldConnections: 18_000 } as const;

export interface LoadOptions {
  meters: number;
  slotSeconds: number;
  durationSeconds: number;
  groupSize: number;
  broker: LoadBroker;
  host: string;
  /** Identities with their own connection for the whole run; default min(meters, 10,000). */
  held?: number;
  /** Short-lived connections at once for the others. */
  rotating?: number;
  /** Reports of a slot go out over this share of the slot after its end. */
  spread?: number;
  threshold?: { threshold: number; custodians: number };
  /** Groups per aggregator process (a placement, host/config/placement.ts); default 1: one process per group. */
  groupsPerAggregator?: number;
  /** Randomness worker threads. */
  workers?: number;
  keepDir?: boolean;
  log: RoleLog;
}

export interface LoadResult {
  meters: number;
  groups: number;
  /** Aggregator processes: one per group, or one per host of the placement. */
  aggregatorProcesses: number;
  slots: number;
  held: number;
  rotating: number;
  peakConnections: number;
  reports: number;
  published: number;
  resent: number;
  unacknowledged: number;
  poolMade: number;
  poolTaken: number;
  poolSeconds: number;
  /** Reports acknowledged per second, over each slot's span from its first report to its last acknowledgement. */
  reportsPerSecond: number;
  /** What the meters offered: one slot's reports over the spread window. */
  offeredPerSecond: number;
  aggregatorCpuMsPerReport: number;
  brokerCpuMsPer1000MetersPerSecond: number;
  brokerPeakRssMiBPer1000Meters: number;
  brokerPeakRssMiB: number;
  latencyMedianMs: number;
  latencyP99Ms: number;
  latenessSeconds: number;
  verdict: Omit<Verdict, 'latenciesMs'>;
  complete: boolean;
  dir?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function check(o: LoadOptions): void {
  if (!isLoopbackHost(o.host))
    fail('load-not-loopback', `--host ${o.host}: meterveil load runs on loopback only (localhost, 127.0.0.0/8, ::1)`);
  if (!Number.isInteger(o.meters) || o.meters < 2 || o.meters > LOAD_LIMITS.meters)
    fail('bad-argument', `--meters must be an integer from 2 to ${LOAD_LIMITS.meters}`);
  if (!(o.durationSeconds > 0 && o.durationSeconds <= LOAD_LIMITS.durationSeconds))
    fail('bad-argument', `--duration must be a number of seconds up to ${LOAD_LIMITS.durationSeconds}`);
  if (o.durationSeconds < o.slotSeconds) fail('bad-argument', '--duration must hold at least one slot');
  if (o.held !== undefined && (!Number.isInteger(o.held) || o.held < 0 || o.held > Math.min(o.meters, LOAD_LIMITS.heldConnections)))
    fail('bad-argument', `--connections must be an integer from 0 to min(--meters, ${LOAD_LIMITS.heldConnections})`);
  if (o.groupsPerAggregator !== undefined && !(Number.isInteger(o.groupsPerAggregator) && o.groupsPerAggregator >= 1))
    fail('bad-argument', '--groups-per-aggregator must be an integer of at least 1');
  if (o.spread !== undefined && !(o.spread >= 0 && o.spread <= 1)) fail('bad-argument', '--spread must be a share of the slot from 0 to 1');
}

export async function runLoad(o: LoadOptions): Promise<LoadResult> {
  check(o);
  const { log } = o;
  const slotCount = Math.floor(o.durationSeconds / o.slotSeconds);
  const dir = mkdtempSync(join(tmpdir(), 'meterveil-load-'));
  const configPath = await writeLoadLayout(dir, o);
  const config = loadConfig(configPath);
  const { publicKey, secrets } = await provision(config);
  // The provider's API needs reader tokens to start; nobody reads it during a load run.
  ensureReaderTokens(config);
  log.info(
    `layout: ${o.meters} meters in ${config.groups.length} groups, ${slotCount} slot(s) of ${o.slotSeconds} s, ${o.broker} broker, folder ${dir}`,
  );

  const supervisor = new Supervisor(join(dir, 'logs'), { log, forward: () => {} });
  let mosquitto: RunningMosquitto | undefined;
  let generator: LoadGenerator | undefined;
  let rssTimer: NodeJS.Timeout | undefined;
  try {
    const poolStarted = Date.now();
    const pool = await OneTimePool.fill(config.keys.publicKey, o.meters * slotCount, {
      workers: o.workers,
      onProgress: (made) => {
        if (made % 5000 < 64) log.info(`randomness: ${made} of ${o.meters * slotCount}`);
      },
    });
    const poolSeconds = (Date.now() - poolStarted) / 1000;
    log.info(`randomness: ${pool.made} one-time values in ${poolSeconds.toFixed(0)} s (worker threads, this run's key, memory only)`);

    const args = ['--config', configPath];
    let brokerPids: () => number[];
    if (o.broker === 'nats') {
      const names = await startNatsCluster(config, secrets, supervisor);
      await natsReady(config);
      brokerPids = () => names.flatMap((name) => withChildren(supervisor.pid(`nats-${name}`) ?? -1));
    } else if (o.broker === 'mosquitto') {
      const { host, port } = brokerAddress(config);
      writeMosquittoFiles(join(dir, 'mosquitto'), {
        host,
        port,
        users: brokerUsers(secrets),
        acl: deploymentAcl(config),
        maxQueuedMessages: sessionQueueBound(config),
      });
      const running = await runMosquitto(join(dir, 'mosquitto'), () => {});
      mosquitto = running;
      brokerPids = () => (running.pid === undefined ? [] : [running.pid]);
    } else {
      await supervisor.start({ name: 'broker', args: ['broker', ...args], show: /^$/ });
      brokerPids = () => withChildren(supervisor.pid('broker') ?? -1);
    }
    const brokerCpuMs = () => brokerPids().reduce((sum, pid) => sum + processCpuMs(pid), 0);
    const brokerRss = () => brokerPids().reduce((sum, pid) => sum + processRssBytes(pid), 0);
    const d = config.provider.decryption;
    if (d.mode === 'threshold')
      await Promise.all(
        custodianIndices(config).map((i) =>
          supervisor.start({ name: `custodian-${i}`, args: ['custodian', '--share', demoSharePath(d, i), ...args], show: /^$/ }),
        ),
      );
    await supervisor.start({ name: 'provider', args: ['provider', ...args], show: /^$/ });
    // One process per aggregator host of the layout's placement, or per group without one.
    const aggregators =
      config.aggregators.length > 0
        ? config.aggregators.map((h) => ({ name: `aggregator-${h.name}`, args: ['--host', h.name] }))
        : config.groups.map((g) => ({ name: `aggregator-${g.id}`, args: ['--group', g.id] }));
    // A few at a time: on NATS each subscription is a replicated JetStream consumer, and many made
    // at once time out; one that fails to start is tried again, twice.
    const startAggregator = async (a: { name: string; args: string[] }) => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await supervisor.start({ name: a.name, args: ['aggregator', ...args, ...a.args], show: /^$/ });
        } catch (e) {
          if (attempt >= 3) throw e;
          log.warn(`${a.name} did not start (${(e as Error).message}); trying again`);
        }
      }
    };
    const batch = o.broker === 'nats' ? 2 : 8;
    for (let i = 0; i < aggregators.length; i += batch) {
      const started = await Promise.allSettled(aggregators.slice(i, i + batch).map(startAggregator));
      const failed = started.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
    }
    await supervisor.start({ name: 'feeders', args: ['feeder', ...args], show: /^$/ });
    log.info(`broker, provider, ${aggregators.length} aggregator process(es) for ${config.groups.length} group(s) and the feeders running`);

    const groupsOf = new Map<string, string[]>();
    for (const g of config.groups) for (const m of g.members) groupsOf.set(m, [...(groupsOf.get(m) ?? []), g.id]);
    const custodians = custodianIndices(config);
    const identities: LoadIdentity[] = [...groupsOf].map(([meterId, groups]) => ({
      meterId,
      password: secrets.meters[meterId].password,
      macKey: meterMacKey(secrets, meterId),
      custodianKeys: custodians.map((i) => meterCustodianKey(secrets, meterId, i)),
      ackKeys: new Map(groups.map((g) => [g, meterAckKey(secrets, meterId, g)])),
    }));
    const held = o.held ?? Math.min(o.meters, 10_000);
    const spreadMs = (o.spread ?? 0.25) * config.slotSeconds * 1000;
    const rotating = held === o.meters ? 0 : (o.rotating ?? 200);
    generator = new LoadGenerator({
      urls: config.broker.urls,
      publicKey,
      packing: slotPackingFor(config.slotSeconds, config.packing, publicKey.bits),
      slotSeconds: config.slotSeconds,
      identities,
      held,
      rotating,
      pool,
      spreadMs,
      resendMs: 15_000,
    });
    await generator.connect(200, (n) => {
      if (n % 2000 === 0 || n === held) log.info(`connections: ${n} of ${held} held`);
    });
    if (held < o.meters)
      log.info(
        `${held} identities hold their own connection; the other ${o.meters - held} take turns, ${rotating} at a time, on short-lived connections of their own`,
      );

    const rolePids = () => aggregators.map((a) => supervisor.pid(a.name)).filter((p): p is number => p !== undefined);
    // The slot in progress is the first: its end is the next one, and the households' model gives its whole readings.
    const first = slotAt(Date.now(), config.slotSeconds);
    const last = first + slotCount - 1;
    // Counting starts when the first slot's reports begin, after connection set-up.
    await sleep(Math.max(0, slotEndMs(first, config.slotSeconds) - Date.now()));
    const cpu0 = { broker: brokerCpuMs(), aggregators: rolePids().reduce((s, p) => s + processCpuMs(p), 0) };
    const t0 = Date.now();
    let peakRss = 0;
    rssTimer = setInterval(() => {
      peakRss = Math.max(peakRss, brokerRss());
    }, 1000);
    const deadlineOf = (s: number) => slotEndMs(s, config.slotSeconds) + config.slotSeconds * 1000 + config.latenessSeconds * 1000 + 30_000;
    const sending: Promise<unknown>[] = [];
    for (let s = first; s <= last; s++) {
      await sleep(Math.max(0, slotEndMs(s, config.slotSeconds) - Date.now()));
      log.info(`slot ${s}: reporting (${s - first + 1} of ${slotCount})`);
      sending.push(generator.reportSlot(s, deadlineOf(s)));
    }
    await Promise.all(sending);
    const members = new Map(config.groups.map((g) => [g.id, g.members]));
    const want = config.groups.length * slotCount;
    const storePath = providerStorePath(config);
    // From the last slot's end, or from the last acknowledgement when sending took longer.
    const waitUntil = Math.max(slotEndMs(last, config.slotSeconds), Date.now()) + (config.latenessSeconds + config.skewSeconds + 60) * 1000;
    let rows = readSeries(storePath, [first, last]);
    while (rows.length < want && Date.now() < waitUntil) {
      await sleep(500);
      rows = readSeries(storePath, [first, last]);
    }
    clearInterval(rssTimer);
    const seconds = (Date.now() - t0) / 1000;
    const cpu = {
      broker: brokerCpuMs() - cpu0.broker,
      aggregators: rolePids().reduce((s, p) => s + processCpuMs(p), 0) - cpu0.aggregators,
    };
    const verdict = verify(rows, generator.slots, members, config.slotSeconds);
    const { latenciesMs, ...counts } = verdict;
    const reports = generator.slots.reduce((n, s) => n + s.reports, 0);
    const spans = generator.slots.filter((s) => s.lastAckAt > s.firstSentAt);
    const perSecond =
      spans.reduce((n, s) => n + s.reports, 0) /
      Math.max(
        0.001,
        spans.reduce((t, s) => t + (s.lastAckAt - s.firstSentAt) / 1000, 0),
      );
    const complete =
      verdict.correct === verdict.groupSlots && verdict.lost === 0 && verdict.doubled === 0 && verdict.decrypted === verdict.groupSlots;
    return {
      meters: o.meters,
      groups: config.groups.length,
      aggregatorProcesses: aggregators.length,
      slots: slotCount,
      held,
      rotating,
      peakConnections: generator.peakConnections,
      reports,
      published: generator.published,
      resent: generator.resent,
      unacknowledged: generator.unacknowledged,
      poolMade: pool.made,
      poolTaken: pool.taken,
      poolSeconds,
      reportsPerSecond: perSecond,
      offeredPerSecond: o.meters / Math.max(1, spreadMs / 1000),
      aggregatorCpuMsPerReport: cpu.aggregators / Math.max(1, reports),
      brokerCpuMsPer1000MetersPerSecond: cpu.broker / seconds / (o.meters / 1000),
      brokerPeakRssMiB: peakRss / 2 ** 20,
      brokerPeakRssMiBPer1000Meters: peakRss / 2 ** 20 / (o.meters / 1000),
      latencyMedianMs: percentile(latenciesMs, 50),
      latencyP99Ms: percentile(latenciesMs, 99),
      latenessSeconds: config.latenessSeconds,
      verdict: counts,
      complete,
      dir: o.keepDir ? dir : undefined,
    };
  } finally {
    clearInterval(rssTimer);
    await generator?.close();
    await supervisor.stopAll();
    await mosquitto?.stop();
    if (!o.keepDir) rmSync(dir, { recursive: true, force: true });
  }
}

export function formatLoadResult(r: LoadResult): string {
  const v = r.verdict;
  return [
    `${r.meters} meters in ${r.groups} groups (${r.aggregatorProcesses} aggregator processes), ${r.slots} slot(s): ${r.reports} reports (${r.published} publishes, ${r.resent} resends), ${r.unacknowledged} unacknowledged`,
    `connections: ${r.held} identities held their own connection (peak ${r.peakConnections} open at once)` +
      (r.rotating > 0
        ? `; the other ${r.meters - r.held} were multiplexed over ${r.rotating} short-lived connections at a time, one identity each`
        : ''),
    `randomness: ${r.poolMade} one-time values computed ahead in ${r.poolSeconds.toFixed(0)} s, ${r.poolTaken} used, each once`,
    `verdict: ${v.correct} of ${v.groupSlots} group-slots decrypted once with the expected count and totals; ${v.decrypted} decrypted, ${v.undecrypted} not decrypted in time, ${v.wrongTotals} wrong totals, ${v.lost} lost and ${v.doubled} doubled reports; missing from a total, ${v.refused} refused by their aggregator and ${v.notAcknowledged} not acknowledged by the deadline`,
    `reports/s sustained ${r.reportsPerSecond.toFixed(0)} (offered ${r.offeredPerSecond.toFixed(0)}); aggregator CPU ${r.aggregatorCpuMsPerReport.toFixed(3)} ms/report; broker CPU ${r.brokerCpuMsPer1000MetersPerSecond.toFixed(2)} ms/s per 1,000 meters, peak RSS ${r.brokerPeakRssMiB.toFixed(0)} MiB (${r.brokerPeakRssMiBPer1000Meters.toFixed(1)} MiB per 1,000 meters)`,
    `slot end to stored total: median ${r.latencyMedianMs.toFixed(0)} ms, p99 ${r.latencyP99Ms.toFixed(0)} ms (lateness ${r.latenessSeconds} s)`,
    r.complete ? 'OK: every slot decrypted once with the expected count and totals' : 'FAILED: see the verdict',
  ].join('\n');
}
