/**
 * The Espruino meter on a real Espruino interpreter: N `bin/espruino` processes of an Espruino
 * Linux build (built from its source by hand, docs/espruino.md) run the bundle of
 * tools/espruino/build.ts against a masked deployment that `meterveil provision` wrote, on Debian's
 * mosquitto (`meterveil broker --mosquitto`), with the deployment's aggregator (`meterveil
 * aggregator`) and the provider. Each meter has its own working directory, so its own
 * `espruino.flash`; the bundle, the EspruinoDocs MQTT module (minified, as the Espruino tools
 * upload it) and its `meterveil.json` are written into its Storage, and the bundle runs from
 * there, as on a board.
 *
 * Reported, in OUT/summary.json: for each decrypted slot, the provider's total against the sum of
 * the meters' values that this run unmasks one by one (it holds the provider's mask keys and
 * listens on the aggregator's login); per meter, the time each report takes on the meter (getTime()
 * around the masked meter's report step: pack, HMAC-SHA-256 mask, ledger, outbox, MAC, publish),
 * the variables in use (`process.memory()`) before, after and at the peak of each report (sampled
 * at each SHA-256 call inside it), and between reports, and the process's CPU time.
 *
 * Reboot (REBOOT=i, 0 for none): meter i's flash is copied 2 s before the end of a slot; once its
 * report of that slot has been out a while, the meter is killed (SIGKILL, a power cut) and its own
 * Storage files but the mask ledger (checkpoint, outbox) are put back as the copy holds them, as if
 * the power had gone just after the ledger's write at the slot's close, the first of them. The
 * meter starts again inside the next slot, resumes the reported one from its checkpoint and closes
 * it again: only the ledger can keep it from sending that slot with another (re-measured)
 * value. Every report this run sees for that (meter, slot) must carry the same bytes.
 * REBOOT_MODE=outbox instead stops the aggregator 2 s before that slot ends, so that the report
 * stays unacknowledged, kills the meter after sending it and starts it again with its flash as it
 * was: the meter must send the same bytes again from its outbox; then the aggregator comes back.
 *
 * Needs mosquitto. Environment: ESPRUINO (the interpreter, required), MQTT_MODULE (EspruinoDocs
 * modules/MQTT.js, required), ESPRUINO_INSTALL (the interpreter that writes the files into Storage:
 * ESPRUINO), METERS (3), SLOTS (4: decrypted slots to wait for), SLOT_S (10),
 * REBOOT (2), REBOOT_AT (2: the slot, counted from the first full one, after which meter REBOOT is
 * rebooted), REBOOT_MODE (ledger), PORT (a free one), OUT (/tmp/meterveil-espruino), LABEL (written into the summary).
 * Usage: ESPRUINO=... MQTT_MODULE=... node --import tsx tools/espruino/linux-run.ts
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transformSync } from 'esbuild';
import { bytesToBigInt, bytesToHex } from '../../firmware/bytes.ts';
import { decodeReport, peekReportMeterId, reportTopic } from '../../firmware/protocol/report.ts';
import { aggregatorUser, meterUser } from '../../host/config/identities.ts';
import { loadConfig } from '../../host/config/load.ts';
import { meterMaskKey, readSecrets, servicePassword, type Secrets } from '../../host/config/secrets.ts';
import { connected, connectRole, endClient } from '../../host/mqtt/client.ts';
import { nodeHmacSha256 } from '../../host/protocol/mac.ts';
import { slotAt, slotStartMs } from '../../host/protocol/slots.ts';
import { espruinoMeterConfig } from '../../host/provision/espruino.ts';
import type { Decrypted } from '../../host/provider/provider.ts';
import { runProvider } from '../../host/provider/run.ts';
import { maskedParamsOfConfig } from '../../host/scheme/of-config.ts';
import { maskSum, unmask } from '../../host/scheme/unmask.ts';
import { freePort } from '../pipeline/deployment.ts';
import { buildEspruinoBundle } from './build.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = process.env;
const required = (name: string) => env[name] || fail(`set ${name} (see the head of tools/espruino/linux-run.ts)`);
function fail(message: string): never {
  throw new Error(message);
}
const ESPRUINO = resolve(required('ESPRUINO'));
const MQTT_MODULE = resolve(required('MQTT_MODULE'));
// A build with a board's fixed variable count cannot read the bundle into RAM to write it: another one installs.
const INSTALLER = resolve(env.ESPRUINO_INSTALL ?? ESPRUINO);
const METERS = Number(env.METERS ?? 3);
const SLOTS = Number(env.SLOTS ?? 4);
const SLOT_S = Number(env.SLOT_S ?? 10);
const REBOOT = Number(env.REBOOT ?? 2);
const REBOOT_AT = Number(env.REBOOT_AT ?? 2);
const REBOOT_MODE = env.REBOOT_MODE ?? 'ledger';
if (REBOOT_MODE !== 'ledger' && REBOOT_MODE !== 'outbox') fail('REBOOT_MODE is ledger or outbox');
const OUT = resolve(env.OUT ?? '/tmp/meterveil-espruino');
const PORT = Number(env.PORT ?? (await freePort()));
const GROUP = 'street';
const cli = join(root, 'bin/meterveil.js');
const log = (line: string) => process.stdout.write(`[${new Date().toISOString()}] ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// --- the deployment, as an operator makes it ---
rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true, mode: 0o711 });
const meterIds = Array.from({ length: METERS }, (_, i) => `es-${i + 1}`);
const deployment = {
  scheme: 'masked',
  dataDir: './data',
  broker: { url: `mqtt://127.0.0.1:${PORT}`, embedded: false },
  slotSeconds: SLOT_S,
  latenessSeconds: 3,
  packing: { readings: 1, maxPowerWatts: 20_000 },
  http: { host: '127.0.0.1', port: 0 },
  provider: { decryption: { mode: 'single' } },
  groups: [{ id: GROUP, members: meterIds, feeder: `feeder-${GROUP}`, k: Math.min(2, METERS) }],
};
writeFileSync(join(OUT, 'meterveil.json'), JSON.stringify(deployment, null, 2));
const run = (args: string[]) => execFileSync(process.execPath, [cli, ...args], { cwd: OUT, encoding: 'utf8' }).trim();
// provision reads keys.publicKey even for a masked deployment, whose meters never use it.
log(run(['keygen', '--bits', '2048', '--out', 'data/keys']).split('\n')[0]);
log(run(['provision', '--config', 'meterveil.json', '--out', 'provisioned']));
const provisioned = join(OUT, 'provisioned');

const children: ChildProcess[] = [];
function role(name: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: OUT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...env, METERVEIL_LOG_LEVEL: 'warn' },
  });
  const lines: string[] = [];
  child.stdout!.on('data', (b: Buffer) => lines.push(b.toString()));
  child.stderr!.on('data', (b: Buffer) => lines.push(b.toString()));
  child.on('exit', (code, signal) => {
    writeFileSync(join(OUT, `${name}.log`), lines.join(''));
    if (!stopping) log(`${name} exited (${code ?? signal})`);
  });
  children.push(child);
  return child;
}
let stopping = false;
const meterProcesses: ChildProcess[] = [];
// A run that fails half way leaves no meter, role or broker behind (the broker command stops mosquitto on SIGTERM).
process.on('exit', () => {
  for (const child of meterProcesses) if (child.exitCode === null) child.kill('SIGKILL');
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => process.exit(1));
role('mosquitto', ['broker', '--mosquitto', join(provisioned, 'broker')]);
await sleep(1000);
const aggregatorArgs = ['aggregator', '-c', join(provisioned, `aggregators/${GROUP}/config.json`), '-g', GROUP];
let aggregator = role('aggregator', aggregatorArgs);
const providerConfig = loadConfig(join(provisioned, 'provider/config.json'));
const decrypted: Decrypted[] = [];
const provider = await runProvider(providerConfig, { onDecrypted: (d) => decrypted.push(d) });
log(`mosquitto on ${PORT}, aggregator of ${GROUP}, provider up`);

// --- what this run sees: every report, unmasked one by one with the provider's mask keys ---
const providerSecrets = readSecrets(providerConfig.keys.secrets);
const aggregatorConfig = loadConfig(join(provisioned, `aggregators/${GROUP}/config.json`));
const aggregatorSecrets = readSecrets(aggregatorConfig.keys.secrets);
const params = maskedParamsOfConfig(providerConfig);
interface Seen {
  meterId: string;
  slot: number;
  value: bigint;
  bytes: string;
  at: number;
}
const seen: Seen[] = [];
const observer = connectRole({
  url: deployment.broker.url,
  username: aggregatorUser(GROUP),
  password: servicePassword(aggregatorSecrets, aggregatorUser(GROUP)),
  clientId: 'espruino-linux-run',
  persistent: false,
});
const unreadable: string[] = [];
observer.on('message', (topic, payload) => {
  // The aggregator's backlog marker shares the wildcard; it is no report.
  if (!topic.startsWith(reportTopic(GROUP, '')) || topic.endsWith('~backlog')) return;
  const message = new Uint8Array(payload);
  let meterId: string;
  let report: ReturnType<typeof decodeReport>;
  try {
    meterId = peekReportMeterId(message);
    report = decodeReport(message, Buffer.from(aggregatorSecrets.meters[meterId].macKey!, 'hex'), nodeHmacSha256);
  } catch (e) {
    unreadable.push(`${topic}: ${(e as Error).message}`);
    return;
  }
  const mask = maskSum((m) => meterMaskKey(providerSecrets, m, report.keyId, 0), [meterId], report.keyId, report.slot, params);
  const value = unmask(bytesToBigInt(report.ciphertext), [mask], params);
  seen.push({ meterId, slot: report.slot, value, bytes: bytesToHex(report.ciphertext), at: Date.now() });
});
await connected(observer);
await observer.subscribeAsync(reportTopic(GROUP, '+'), { qos: 1 });

// --- the meters ---
const bundle = await buildEspruinoBundle();
const mqttModule = transformSync(readFileSync(MQTT_MODULE, 'utf8'), { minify: true, target: 'es5' }).code;
log(`bundle ${Buffer.byteLength(bundle.code)} bytes, MQTT module ${Buffer.byteLength(mqttModule)} bytes (minified)`);
const allInOne: Secrets = { meters: {}, services: {} };
for (const meterId of meterIds) {
  const c = JSON.parse(readFileSync(join(provisioned, `meters/${meterId}/config.json`), 'utf8'));
  allInOne.meters[meterId] = { macKey: c.macKey, deviceKey: c.deviceKey, password: c.broker.password };
}

/** Written into Storage by a first run, as `espruino --storage` would upload them to a board. */
const INSTALL = `var S = require("Storage"), fs = require("fs");
["MQTT", "meterveil", "meterveil.json"].forEach(function (name) { S.write(name, fs.readFileSync(name + ".src")); });
print("installed, Storage free " + S.getFree());
`;
/**
 * The boot code: the run's probes around the bundle (which it leaves untouched) and the bundle
 * from Storage. SHA-256 is the masked meter's one primitive; sampling the variables at each call
 * finds the peak inside a report.
 */
const BOOT = `var probe = { peak: 0, calls: 0 };
var crypto = require("crypto"), sha256 = crypto.SHA256;
crypto.SHA256 = function (x) { probe.calls++; var u = process.memory(false).usage; if (u > probe.peak) probe.peak = u; return sha256(x); };
print("linux-run: boot " + JSON.stringify(process.memory(false)));
eval(require("Storage").read("meterveil"));
print("linux-run: loaded " + JSON.stringify(process.memory(false)));
if (global.meterveil) {
  // What the probe itself costs (a count of the variables in use), and one HMAC-SHA-256 of a 40-byte message.
  var t = getTime(), i;
  for (i = 0; i < 50; i++) process.memory(false);
  var probeMs = ((getTime() - t) * 1000) / 50, key = new Uint8Array(16), msg = new Uint8Array(40);
  t = getTime();
  for (i = 0; i < 50; i++) meterveil.platform.mac(key, msg);
  print("linux-run: probe ms " + probeMs.toFixed(3) + " hmac ms " + (((getTime() - t) * 1000) / 50 - 2 * probeMs).toFixed(3));
  var report = meterveil.report;
  meterveil.report = function (closed) {
    var made = meterveil.counters.reportsCreated, before = process.memory(false).usage; probe.peak = before; probe.calls = 0;
    var t0 = getTime();
    report.call(meterveil, closed);
    var ms = (getTime() - t0) * 1000;
    print("linux-run: report slot " + closed.slot + " ms " + ms.toFixed(2) + " vars " + before + " " + process.memory(false).usage + " " + probe.peak + " made " + (meterveil.counters.reportsCreated - made) + " sha " + probe.calls);
  };
  setInterval(function () {
    print("linux-run: memory " + JSON.stringify(process.memory()) + " stats " + JSON.stringify(meterveil.stats()));
  }, ${SLOT_S * 1000});
}
`;

interface MeterRun {
  id: string;
  dir: string;
  process?: ChildProcess;
  lines: string[];
  cpuSeconds: number;
}
function install(m: MeterRun): void {
  mkdirSync(m.dir, { recursive: true });
  const cfg = espruinoMeterConfig(providerConfig, allInOne, m.id, { sampleMs: 1000, checkpointSeconds: SLOT_S });
  writeFileSync(join(m.dir, 'MQTT.src'), mqttModule);
  writeFileSync(join(m.dir, 'meterveil.src'), bundle.code);
  writeFileSync(join(m.dir, 'meterveil.json.src'), JSON.stringify(cfg));
  writeFileSync(join(m.dir, 'install.js'), INSTALL);
  writeFileSync(join(m.dir, 'boot.js'), BOOT);
  m.lines.push(execFileSync(INSTALLER, ['install.js'], { cwd: m.dir, input: '', encoding: 'utf8' }));
}
/** CPU seconds of a running process (utime + stime, in clock ticks of 1/100 s). */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
function boot(m: MeterRun): void {
  // stdin a pipe that stays open and empty: at the end of /dev/null the Linux build's console
  // thread reads a junk character in every turn, keeps the input queue half full with them (and
  // full, FIFO_FULL, when the meter is busy) and, on a 32-bit build, echoes them until the console
  // line runs out of memory.
  const child = spawn(ESPRUINO, ['boot.js'], { cwd: m.dir, stdio: ['pipe', 'pipe', 'pipe'] });
  m.process = child;
  meterProcesses.push(child);
  let pending = '';
  const onOutput = (chunk: Buffer) => {
    pending += chunk.toString('latin1');
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      // The console's prompt and its escape codes are not the meter's.
      const line = pending
        .slice(0, nl)
        .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*[A-Za-z]`, 'g'), '')
        .replace(/^>+/, '')
        .trim();
      pending = pending.slice(nl + 1);
      if (!line) continue;
      m.lines.push(line);
      if (!line.startsWith('linux-run: memory')) log(`${m.id}: ${line}`);
    }
  };
  child.stdout!.on('data', onOutput);
  child.stderr!.on('data', onOutput);
  const sample = setInterval(() => {
    try {
      m.cpuSeconds = cpuOf(child.pid!);
    } catch {
      clearInterval(sample);
    }
  }, 1000);
  child.on('exit', (code, signal) => {
    clearInterval(sample);
    if (!stopping) log(`${m.id} exited (${code ?? signal})`);
  });
}

const meters: MeterRun[] = meterIds.map((id) => ({ id, dir: join(OUT, 'meters', id), lines: [], cpuSeconds: 0 }));
for (const m of meters) install(m);
const startMs = Date.now();
for (const m of meters) boot(m);
// A meter started inside a slot does not report it: the first full slot is the next one.
const firstSlot = slotAt(startMs, SLOT_S) + 1;
const cpuBefore = new Map<string, number>();

// --- the reboot inside a reported slot ---
const rebootSlot = firstSlot + REBOOT_AT - 1;
const rebooted = REBOOT > 0 ? meters[REBOOT - 1] : undefined;
let rebootNote = 'none';
if (rebooted) {
  const copy = join(OUT, 'before-close');
  await sleep(slotStartMs(rebootSlot + 1, SLOT_S) - 2000 - Date.now());
  if (REBOOT_MODE === 'outbox') {
    // Nobody acknowledges the slot: the report stays in the outbox over the reboot.
    aggregator.kill('SIGTERM');
    await new Promise((r) => aggregator.once('exit', r));
  }
  mkdirSync(copy, { recursive: true });
  copyFileSync(join(rebooted.dir, 'espruino.flash'), join(copy, 'espruino.flash'));
  const sent = await waitFor(() => seen.some((s) => s.meterId === rebooted.id && s.slot === rebootSlot), 2 * SLOT_S * 1000);
  if (!sent) fail(`${rebooted.id} sent no report for slot ${rebootSlot}`);
  await sleep(1500);
  cpuBefore.set(rebooted.id, rebooted.cpuSeconds);
  rebooted.process!.kill('SIGKILL');
  await new Promise((r) => rebooted.process!.once('exit', r));
  if (REBOOT_MODE === 'outbox') {
    boot(rebooted);
    const resent = await waitFor(() => seen.filter((s) => s.meterId === rebooted.id && s.slot === rebootSlot).length >= 2, SLOT_S * 1000);
    rebootNote = `aggregator stopped 2 s before slot ${rebootSlot} closed; ${rebooted.id} killed after reporting it, restarted with its flash as it was, ${resent ? 'resent it' : 'did not resend it'}; aggregator started again`;
    aggregator = role('aggregator-again', aggregatorArgs);
  } else ledgerReboot(rebooted, copy);
  log(rebootNote);
}

/** A power cut just after the ledger's write at a slot's close; the meter is started again. */
function ledgerReboot(rebooted: MeterRun, copy: string): void {
  // The meter's own files as they were inside the slot (checkpoint, outbox), but for the mask
  // ledger, which is written first when a slot closes: a power cut just after that write.
  const OWN = 'function own(n) { return n.indexOf("mv") === 0 && !/^mvm[0-9a-f]+$/.test(n); }\n';
  writeFileSync(
    join(copy, 'take.js'),
    `${OWN}var S = require("Storage"), fs = require("fs"), names = S.list().filter(own);
names.forEach(function (n) { fs.writeFileSync(n + ".bin", S.read(n)); });
fs.writeFileSync("files.json", JSON.stringify(names));`,
  );
  execFileSync(INSTALLER, ['take.js'], { cwd: copy, input: '', encoding: 'utf8' });
  const restored = JSON.parse(readFileSync(join(copy, 'files.json'), 'utf8')) as string[];
  for (const name of [...restored.map((n) => `${n}.bin`), 'files.json']) copyFileSync(join(copy, name), join(rebooted.dir, name));
  writeFileSync(
    join(rebooted.dir, 'put.js'),
    `${OWN}var S = require("Storage"), fs = require("fs"), keep = JSON.parse(fs.readFileSync("files.json"));
S.list().filter(own).forEach(function (n) { if (keep.indexOf(n) < 0) S.erase(n); });
keep.forEach(function (n) { S.write(n, fs.readFileSync(n + ".bin")); });`,
  );
  execFileSync(INSTALLER, ['put.js'], { cwd: rebooted.dir, input: '', encoding: 'utf8' });
  rebootNote = `killed ${Math.round((Date.now() - slotStartMs(rebootSlot + 1, SLOT_S)) / 100) / 10} s into slot ${rebootSlot + 1} after reporting ${rebootSlot}; ${restored.join(', ')} put back as they were 2 s before ${rebootSlot} closed, the mask ledger kept`;
  boot(rebooted);
}

async function waitFor(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) return false;
    await sleep(200);
  }
  return true;
}
const lastSlot = firstSlot + SLOTS - 1;
await waitFor(() => decrypted.some((d) => d.slot >= lastSlot), (SLOTS + 3) * SLOT_S * 1000 + 20_000);
await sleep(2000);
for (const m of meters) {
  try {
    m.cpuSeconds = cpuOf(m.process!.pid!);
  } catch {
    // exited: the last sample stands
  }
}
stopping = true;
const wallSeconds = (Date.now() - startMs) / 1000;

// --- the summary ---
const slots = [...new Set(decrypted.map((d) => d.slot))].sort((a, b) => a - b);
const perSlot = slots.map((slot) => {
  const d = decrypted.find((x) => x.slot === slot)!;
  const values = new Map<string, Set<string>>();
  let expected = 0n;
  for (const s of seen.filter((x) => x.slot === slot)) {
    const held = values.get(s.meterId) ?? new Set<string>();
    if (held.size === 0) expected += s.value;
    held.add(s.bytes);
    values.set(s.meterId, held);
  }
  return {
    slot,
    count: d.count,
    total: String(d.total),
    unmaskedSum: String(expected),
    exact: d.total === expected && d.count === values.size,
    secondValues: [...values].filter(([, b]) => b.size > 1).map(([m]) => m),
  };
});
// Only the slots the meter reported: not the one it started inside, nor one it refused to send again.
const reportLine = /^linux-run: report slot (\d+) ms ([\d.]+) vars (\d+) (\d+) (\d+) made 1 sha (\d+)/;
const memoryLine = /^linux-run: memory (\{.*\}) stats (\{.*\})$/;
const probeLine = /^linux-run: probe ms ([\d.]+) hmac ms ([\d.-]+)/;
const perMeter = meters.map((m) => {
  const costs = m.lines.map((l) => probeLine.exec(l)).find((x) => x !== null);
  const probeMs = costs ? Number(costs[1]) : 0;
  const reports = m.lines.map((l) => reportLine.exec(l)).filter((x) => x !== null);
  const memory = m.lines.map((l) => memoryLine.exec(l)).filter((x) => x !== null);
  // The probe counts the variables at each SHA-256 call: its time is taken off the report's.
  const ms = reports.map((r) => Math.round((Number(r[2]) - Number(r[6]) * probeMs) * 100) / 100);
  const last = memory.at(-1);
  return {
    meter: m.id,
    reports: reports.length,
    probeMs,
    hmacMs: costs ? Number(costs[2]) : undefined,
    sha256PerReport: reports.length ? Number(reports[0][6]) : undefined,
    msPerReport: { min: Math.min(...ms), median: ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)], max: Math.max(...ms) },
    varsBeforeReport: Math.max(...reports.map((r) => Number(r[3]))),
    varsAfterReport: Math.max(...reports.map((r) => Number(r[4]))),
    varsPeakInReport: Math.max(...reports.map((r) => Number(r[5]))),
    varsLoaded: m.lines.find((l) => l.startsWith('linux-run: loaded')),
    memoryLast: last ? JSON.parse(last[1]) : undefined,
    statsLast: last ? JSON.parse(last[2]) : undefined,
    cpuSeconds: m.cpuSeconds + (cpuBefore.get(m.id) ?? 0),
    cpuSecondsPerSlot: Math.round(((m.cpuSeconds + (cpuBefore.get(m.id) ?? 0)) / (wallSeconds / SLOT_S)) * 1000) / 1000,
    problems: m.lines.filter((l) => /error|uncaught|memory|refused|not reported|resumed/i.test(l) && !l.startsWith('linux-run:')),
  };
});
const rebootSeen = rebooted ? seen.filter((s) => s.meterId === rebooted.id && s.slot === rebootSlot) : [];
const summary = {
  label: env.LABEL ?? '',
  espruino: ESPRUINO,
  bundleBytes: Buffer.byteLength(bundle.code),
  mqttModuleBytes: Buffer.byteLength(mqttModule),
  meters: METERS,
  slotSeconds: SLOT_S,
  wallSeconds: Math.round(wallSeconds),
  slotsDecrypted: perSlot.length,
  unreadable,
  allExact: unreadable.length === 0 && perSlot.length >= SLOTS && perSlot.every((s) => s.exact && s.secondValues.length === 0),
  perSlot,
  perMeter,
  reboot: rebooted && {
    meter: rebooted.id,
    slot: rebootSlot,
    mode: REBOOT_MODE,
    note: rebootNote,
    reportsSeen: rebootSeen.length,
    distinctValues: new Set(rebootSeen.map((s) => s.bytes)).size,
    meterLines: rebooted.lines.filter((l) => /slot|resumed|started/.test(l) && !l.startsWith('linux-run:')),
  },
  meterUsers: meterIds.map(meterUser),
};
writeFileSync(join(OUT, 'summary.json'), JSON.stringify(summary, null, 2));
for (const m of meters) writeFileSync(join(m.dir, 'console.txt'), m.lines.join('\n'));
log(JSON.stringify(summary, null, 2));
for (const m of meters) m.process?.kill('SIGKILL');
await endClient(observer);
await provider.stop();
for (const child of children.reverse()) child.kill('SIGTERM');
await sleep(500);
const rebootHeld =
  !summary.reboot || (summary.reboot.distinctValues === 1 && (REBOOT_MODE === 'ledger' || summary.reboot.reportsSeen >= 2));
process.exit(summary.allExact && rebootHeld ? 0 : 1);
