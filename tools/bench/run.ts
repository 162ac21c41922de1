/**
 * `npm run bench [-- --bits 2048,3072] [--quick] [--json FILE] [--suite NAME]`
 * Runs every suite in tools/bench/suites/ (each exports `suite: BenchSuite`), prints one table per
 * key size and the targets' verdicts, and optionally writes the results as JSON. A missed target
 * is reported, not an error: the benchmark is a measurement, the tests are the gate.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { Command } from 'commander';
import { formatTable, formatVerdicts, judgeTargets, toJson } from './report.ts';
import type { BenchRow, BenchSuite, BenchTarget } from './types.ts';

const program = new Command('bench')
  .description('Paillier benchmark: meterveil in V8 and XS against paillier-bigint and jsbn')
  .option('--bits <list>', 'key sizes in bits, comma-separated', '2048,3072')
  .option('--quick', 'few samples, for a smoke run (numbers are rough)', false)
  .option('--json <file>', 'also write the results as JSON')
  .option('--suite <name>', 'run only this suite')
  .option('--meters <list>', 'scale suite: fleet sizes, comma-separated (default 10000,100000; --quick 1000)')
  .option('--duration <s>', 'scale suite: seconds of reporting per run (default two slots)')
  .option('--brokers <list>', 'scale suite: embedded,mosquitto,nats (default all three)')
  .parse();

const options = program.opts<{
  bits: string;
  quick: boolean;
  json?: string;
  suite?: string;
  meters?: string;
  duration?: string;
  brokers?: string;
}>();
const list = (text: string | undefined) => text?.split(',').map((item) => item.trim());
const meters = list(options.meters)?.map(Number);
if (meters?.some((n) => !Number.isInteger(n) || n < 2)) program.error(`--meters: expected a list like 10000,100000, got ${options.meters}`);
const durationSeconds = options.duration === undefined ? undefined : Number(options.duration);
if (durationSeconds !== undefined && !(durationSeconds > 0)) program.error(`--duration: expected seconds, got ${options.duration}`);
const brokers = list(options.brokers);
if (brokers?.some((b) => !['embedded', 'mosquitto', 'nats'].includes(b)))
  program.error(`--brokers: expected some of embedded, mosquitto, nats, got ${options.brokers}`);
const bits = options.bits.split(',').map((b) => Number(b.trim()));
if (bits.some((b) => !Number.isInteger(b) || b < 512 || b % 256 !== 0)) {
  program.error(`--bits: expected a list like 2048,3072, got ${options.bits}`);
}

const suitesDir = new URL('./suites/', import.meta.url);
const suites: BenchSuite[] = [];
for (const file of readdirSync(suitesDir)
  .filter((f) => f.endsWith('.ts'))
  .sort()) {
  const module = (await import(new URL(file, suitesDir).href)) as { suite?: BenchSuite };
  if (!module.suite) throw new Error(`tools/bench/suites/${file} exports no suite`);
  if (!options.suite || module.suite.name === options.suite) suites.push(module.suite);
}
if (suites.length === 0) program.error(`no suite named ${options.suite}`);

const started = Date.now();
const rows: BenchRow[] = [];
const targets: BenchTarget[] = [];
const notes: string[] = [];
for (const suite of suites) {
  console.error(`suite ${suite.name}`);
  const result = await suite.run({ bits, quick: options.quick, log: (line) => console.error(line), meters, durationSeconds, brokers });
  rows.push(...result.rows);
  notes.push(...result.notes);
  targets.push(...(suite.targets ?? []));
}

const verdicts = judgeTargets(rows, targets);
const machine = {
  date: new Date().toISOString(),
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  quick: options.quick,
  seconds: Math.round((Date.now() - started) / 1000),
};
console.log(formatTable(rows));
for (const note of notes) console.log(`note: ${note}`);
console.log(`\ntargets\n${formatVerdicts(verdicts)}`);
console.log(
  `\n${machine.date}, ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.seconds} s${options.quick ? ', quick run' : ''}`,
);
if (options.json) {
  writeFileSync(options.json, JSON.stringify(toJson(rows, verdicts, machine), null, 2) + '\n');
  console.error(`wrote ${options.json}`);
}
