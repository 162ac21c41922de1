/**
 * XS side of the randomness benchmark (tools/bench/suites/randomness.ts). `setup` takes a public
 * key (JSON) and a comb shape; `run` times one named operation inside XS (performance.now), so
 * the pipe to Node does not count, and the harness reports its computrons:
 *   classic-rn   r^n mod n^2 for a fresh r (a classic key's pool entry)
 *   djn          hs^a for a fresh a of exponentBits bits, windowed (no table), as the meter's pool
 *                computes it (steps.ts, run to its end)
 *   djn-comb     hs^a with the comb table in storage, read entry by entry
 *   comb-build   building that table from hs
 * `meter` starts a whole meter (firmware/meter/meter.ts) on a virtual clock with this key and no
 * broker; `turn` advances it by one sample and times that one turn of its loop.
 */
import { validateConfig } from '../../../firmware/config/schema.ts';
import { Meter } from '../../../firmware/meter/meter.ts';
import { publicKeyFromJson } from '../../../firmware/paillier/codec.ts';
import { CombTable, type CombShape } from '../../../firmware/paillier/comb.ts';
import { PaillierPublicKey } from '../../../firmware/paillier/public-key.ts';
import { randomBits } from '../../../firmware/paillier/random.ts';
import { runToEnd, WindowPowJob } from '../../../firmware/paillier/steps.ts';
import { residuesFor } from '../../../firmware/paillier/arith.ts';
import { keyedHmacSha256, keyedHmacSha256Stream } from '../../../firmware/platform/keyed-hmac.ts';
import { MemoryStorage } from '../../../firmware/platform/memory-storage.ts';
import type { Platform } from '../../../firmware/platform/port.ts';
import { VirtualClock } from '../../../firmware/platform/virtual-clock.ts';
import { serveCommands } from '../../../firmware/platform/xs-sim/xs-side.ts';
import type { RandomBytes } from '../../../firmware/paillier/random.ts';

/**
 * A xorshift generator standing in for the device's native one (esp_fill_random: one call and a
 * copy). The tests' seeded source hashes with SHA-256 in portable JavaScript, about 35,000
 * computrons a 32-byte block: more than the comb's table reads, and nothing the device pays.
 * Benchmark only: it is no randomness at all.
 */
function xorshiftForBenchmark(seed: number): RandomBytes {
  let x = seed >>> 0 || 1;
  return (length) => {
    const out = new Uint8Array(length);
    const words = new Uint32Array(out.buffer, 0, length >> 2);
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x;
    }
    for (let i = words.length * 4; i < length; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
    return out;
  };
}

const random = xorshiftForBenchmark(0x9e3779b9);
let key: PaillierPublicKey | undefined;
let classic: PaillierPublicKey | undefined;
let table: CombTable | undefined;
let meter: { clock: VirtualClock; sampleMs: number; meter: Meter } | undefined;
let _sink: unknown;

function ready<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('setup first');
  return value;
}

function buildTable(): void {
  const job = ready(table).build(ready(key));
  while (!job.done) job.step(1 << 20);
}

const operations: Record<string, () => unknown> = {
  'classic-rn': () => ready(classic).precomputeRn(random),
  djn: () => {
    const k = ready(key);
    return runToEnd(new WindowPowJob(residuesFor(k.n, k.arith), k.shortExponent!.hs, randomBits(k.shortExponent!.exponentBits, random)));
  },
  'djn-comb': () => runToEnd(ready(table).pow(ready(key), randomBits(ready(key).shortExponent!.exponentBits, random))),
  'comb-build': buildTable,
};

interface Command {
  op: string;
  key?: unknown;
  comb?: CombShape;
  name?: string;
  iterations?: number;
  config?: Record<string, unknown>;
}

serveCommands((command: Command) => {
  switch (command.op) {
    case 'setup': {
      key = publicKeyFromJson(command.key);
      classic = new PaillierPublicKey(key.n);
      table = new CombTable(new MemoryStorage([], () => {}, 1 << 20), command.comb!);
      buildTable();
      return { arith: key.arith.kind };
    }
    case 'run': {
      const operation = operations[command.name!];
      if (!operation) throw new Error(`unknown operation ${command.name}`);
      const start = performance.now();
      for (let i = 0; i < command.iterations!; i++) _sink = operation();
      return { ms: performance.now() - start };
    }
    case 'meter': {
      const config = validateConfig(command.config);
      const clock = new VirtualClock(Date.UTC(2026, 5, 1, 0, 0, 0));
      const platform: Platform = {
        name: 'bench',
        clock,
        sensor: { readPowerWatts: () => 640 },
        randomBytes: random,
        storage: new MemoryStorage(),
        mac: keyedHmacSha256(),
        macStream: keyedHmacSha256Stream(),
        mqtt: { connect() {}, disconnect() {}, publish: () => false, subscribe() {} },
        log() {},
      };
      meter = { clock, sampleMs: config.sampleMs, meter: new Meter(platform, config) };
      meter.meter.start();
      return null;
    }
    case 'turn': {
      const m = ready(meter);
      const start = performance.now();
      m.clock.advanceTo(m.clock.now() + m.sampleMs);
      const ms = performance.now() - start;
      const stats = m.meter.stats();
      return { ms, poolSize: stats.poolSize, reports: stats.reportsCreated, dry: stats.poolDry, tables: stats.combTablesBuilt };
    }
    default:
      throw new Error(`unknown command ${command.op}`);
  }
});
