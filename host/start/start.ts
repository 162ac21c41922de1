/**
 * `meterveil start` (and `npm start`): the whole pipeline on one machine. The broker and the
 * simulated fleet run in this process; the provider, one aggregator per group and the feeder
 * meters run as child processes, exactly as they would on separate machines, so that one crashing
 * (or being killed) does not take the others down and each has its own event loop.
 */
import { join, resolve } from 'node:path';
import { runBroker } from '../broker/run.ts';
import { loadConfig } from '../config/load.ts';
import { provision } from './provision.ts';
import { runFleet, type RunningFleet } from './fleet.ts';
import { Supervisor } from './supervisor.ts';
import { writeDemoConfigIfAbsent } from './demo-config.ts';
import type { EmbeddedBroker } from '../broker/embedded.ts';

export const DEFAULT_START_CONFIG = './data/meterveil.json';

export async function startAll(options: { config?: string; simulate: boolean; print: (line: string) => void }): Promise<() => Promise<void>> {
  const { print } = options;
  const configPath = resolve(options.config ?? DEFAULT_START_CONFIG);
  if (!options.config && writeDemoConfigIfAbsent(configPath)) print(`wrote a demo config to ${configPath}`);
  const config = loadConfig(configPath);
  const { publicKey, secrets, createdKeys } = await provision(config);
  if (createdKeys) print(`generated a 2048-bit Paillier key pair in ${config.keys.publicKey.replace(/\/[^/]+$/, '')}`);

  let broker: EmbeddedBroker | undefined;
  let fleet: RunningFleet | undefined;
  const supervisor = new Supervisor(join(config.dataDir, 'logs'), print);
  const stop = async () => {
    await fleet?.stop();
    await supervisor.stopAll();
    await broker?.close();
  };
  try {
    if (config.broker.embedded) {
      broker = await runBroker(config);
      print(`broker (embedded) on ${config.broker.url}`);
    }
    const args = ['--config', configPath];
    await supervisor.start({ name: 'provider', args: ['provider', ...args], ready: /provider API on/, show: /provider API on|slot \d+|ALERT|refused/ });
    await Promise.all(
      config.groups.map((g) =>
        supervisor.start({ name: `aggregator-${g.id}`, args: ['aggregator', ...args, '--group', g.id], ready: /running/, show: /suppressed|not stored/ }),
      ),
    );
    await supervisor.start({ name: 'feeders', args: ['feeder', ...args], ready: /feeder meter\(s\) running/, show: /^$/ });
    print(`aggregators for ${config.groups.map((g) => g.id).join(', ')}; feeders ${config.groups.map((g) => g.feeder).join(', ')}`);
    if (options.simulate) {
      const meters = new Set(config.groups.flatMap((g) => g.members)).size;
      print(`starting ${meters} simulated meters (real firmware in the XS engine)...`);
      fleet = await runFleet(config, publicKey, secrets, { onError: (e) => print(`fleet: ${e.message}`) });
      print(`${meters} meters running; first totals after the first slot closes (${config.slotSeconds} s slots + ${config.latenessSeconds} s lateness)`);
    }
    print(`API: http://${config.http.host}:${config.http.port}/api/health  (groups, series, refusals, alerts under /api)`);
    print('Ctrl-C stops everything');
  } catch (e) {
    await stop();
    throw e;
  }
  return stop;
}
