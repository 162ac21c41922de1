/**
 * The meter in the Moddable SDK's lin simulator with an ESP32 board's XS heap
 * (manifests/lin-nodemcu: the nodemcu's creation values; manifests/lin-nodemcu-85: 85% of them),
 * against Debian's mosquitto: short slots, a signed key rotation (a forged announcement first),
 * and a broker outage long enough to fill the outbox. Builds with instrumentation (`mcconfig -i`),
 * reads the meter's memory lines (firmware/platform/moddable/memory-trace.ts: live chunks and
 * slots after a collection) and the simulator's own once-a-second `instruments:` line (stack
 * used), acknowledges like an aggregator, decrypts every report under the key of its slot, and
 * writes a summary. docs/firmware.md gives a run's figures.
 *
 * With TLS=1 the meter connects over mqtts:// (the SDK's SecureSocket) to a TLS listener of
 * mosquitto with a fresh CA, which is what the meter trusts (broker.ca); with WRONG_CA=1 as well
 * the meter trusts another CA, so that no report may arrive.
 *
 * Needs MODDABLE (the SDK built for lin), mosquitto, xvfb-run. Environment: VARIANT (lin-nodemcu),
 * PORT (18831), SLOT_S (10), SLOTS (360), ROTATE_AT (40), OUTAGE_AT (120), OUTAGE_SLOTS (36),
 * OUT (/tmp/meterveil-lin/<variant>), GDB (1: mcsim under gdb, which prints a crash's backtrace).
 * Usage: node --import tsx tools/lin/nodemcu-run.ts
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { bytesToHex } from '../../firmware/bytes.ts';
import { validateConfig } from '../../firmware/config/schema.ts';
import { KEY_ANNOUNCEMENT_TOPIC } from '../../firmware/keys/announcement.ts';
import { packingFor } from '../../firmware/meter/meter.ts';
import { ciphertextFromBytes, publicKeyToJson } from '../../firmware/paillier/codec.ts';
import { generateSigningKey, signKeyAnnouncement } from '../../host/keys/signing.ts';
import { generateKeyPair } from '../../host/paillier/keygen.ts';
import { ReportSink } from '../../host/simulate/report-sink.ts';
import { createCa, issueServerCertificate, LOOPBACK_NAMES, pemToDerHex } from '../../host/tls/certificates.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = process.env;
const MODDABLE = env.MODDABLE ?? '';
if (!MODDABLE) throw new Error('set MODDABLE to the Moddable SDK built for lin');
const VARIANT = env.VARIANT ?? 'lin-nodemcu';
const PORT = Number(env.PORT ?? 18831);
const OUT = env.OUT ?? `/tmp/meterveil-lin/${VARIANT}`;
const STATE = `${OUT}/state/`;
const TLS = env.TLS === '1';
const BROKER_URL = `${TLS ? 'mqtts' : 'mqtt'}://127.0.0.1:${PORT}`;
const SLOT_S = Number(env.SLOT_S ?? 10);
const SLOTS = Number(env.SLOTS ?? 360);
const ROTATE_AT = Number(env.ROTATE_AT ?? 40);
const OUTAGE_AT = Number(env.OUTAGE_AT ?? 120);
const OUTAGE_SLOTS = Number(env.OUTAGE_SLOTS ?? 36);
const log = (line: string) => process.stdout.write(`[${new Date().toISOString()}] ${line}\n`);

mkdirSync(`${OUT}/build`, { recursive: true });
const ca = TLS ? await createCa('lin run CA') : undefined;
let listenerTls = '';
if (ca) {
  const server = await issueServerCertificate(ca, 'lin run broker', LOOPBACK_NAMES);
  mkdirSync(`${OUT}/tls`, { recursive: true });
  writeFileSync(`${OUT}/tls/ca.pem`, ca.cert);
  writeFileSync(`${OUT}/tls/broker.pem`, server.cert);
  writeFileSync(`${OUT}/tls/broker-key.pem`, server.key, { mode: 0o600 });
  // Started as root, mosquitto would read the key as its own user: it stays the user who owns the key.
  listenerTls = `user ${userInfo().username}\ncafile ${OUT}/tls/ca.pem\ncertfile ${OUT}/tls/broker.pem\nkeyfile ${OUT}/tls/broker-key.pem\n`;
}
const clientTls = ca ? { ca: ca.cert } : {};
// WRONG_CA=1: the meter trusts another CA than the broker's, and must never get through.
const meterCa = ca && env.WRONG_CA === '1' ? await createCa('a CA the broker does not use') : ca;
const [oldPair, newPair] = [await generateKeyPair(2048), await generateKeyPair(2048)];
const signer = generateSigningKey();
const raw = {
  meterId: 'meter-lin-1',
  publicKey: publicKeyToJson(oldPair.publicKey),
  macKey: randomBytes(32).toString('hex'),
  deviceKey: randomBytes(32).toString('hex'),
  broker: { url: BROKER_URL, ...(ca ? { ca: pemToDerHex(meterCa!.cert) } : {}) },
  groups: ['feeder-1'],
  slotSeconds: SLOT_S,
  sampleMs: 1000,
  reconnectMinMs: 1000,
  reconnectMaxMs: 8000,
  signingKey: bytesToHex(signer.publicKey),
  sensor: { kind: 'simulated', seed: 5, yearlyKwh: 3500, utcOffsetMinutes: 60 },
};
const config = validateConfig(raw);

let broker: ChildProcess | undefined;
function startBroker(): void {
  writeFileSync(`${OUT}/mosquitto.conf`, `listener ${PORT} 127.0.0.1\n${listenerTls}allow_anonymous true\n`);
  broker = spawn('mosquitto', ['-c', `${OUT}/mosquitto.conf`], { stdio: 'ignore' });
  log(`mosquitto started on ${PORT}`);
}
function stopBroker(): void {
  broker?.kill('SIGTERM');
  log('mosquitto stopped');
}
startBroker();
await new Promise((resolve) => setTimeout(resolve, 500));
const sink = await ReportSink.connect(
  BROKER_URL,
  new Map([[config.meterId, { macKey: config.macKey, deviceKey: config.deviceKey, groups: config.groups }]]),
  clientTls,
);

// A fresh meter: no state of an earlier run.
rmSync(STATE, { recursive: true, force: true });
rmSync('/tmp/modpreferences.json', { force: true });
const toolsEnv = { ...env, PATH: `${MODDABLE}/build/bin/lin/release:${env.PATH}` };
execFileSync('npm', ['run', 'bundle:device'], { cwd: root, env: toolsEnv, stdio: 'ignore' });
const meterveilConfig = Buffer.from(JSON.stringify(raw)).toString('base64');
execFileSync(
  'mcconfig',
  ['-i', '-m', '-p', 'lin', '-t', 'build', '-o', `${OUT}/build`, `meterveilConfig=${meterveilConfig}`, `stateFolder=${STATE}`],
  {
    cwd: `${root}manifests/${VARIANT}`,
    env: toolsEnv,
    stdio: 'ignore',
  },
);
const app = `${OUT}/build/bin/lin/mc/instrument/${VARIANT}/mc.so`;
// mcsim copies the app into its configuration folder: one per run, so that two runs stay apart.
mkdirSync(`${OUT}/home/.config/tech.moddable.mcsim`, { recursive: true });
log(`built ${app}`);

const lines: string[] = [];
const memory: { chunks: number; slots: number }[] = [];
let peakStackSlots = 0;
// GDB=1 runs mcsim under gdb, which prints the faulting thread's backtrace if it crashes.
const gdb =
  env.GDB === '1' ? ['gdb', '-q', '-batch', '-ex', 'handle SIGPIPE nostop noprint pass', '-ex', 'run', '-ex', 'bt 40', '--args'] : [];
const mcsim = spawn('xvfb-run', ['-a', 'stdbuf', '-o0', ...gdb, `${MODDABLE}/build/bin/lin/release/mcsim`, app], {
  env: { ...toolsEnv, HOME: `${OUT}/home` },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true,
});
let pending = '';
const onOutput = (chunk: Buffer) => {
  pending += chunk.toString();
  for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    lines.push(line);
    const live = /memory: live chunks (\d+) B \(peak \d+\), live slots (\d+)/.exec(line);
    if (live) memory.push({ chunks: Number(live[1]), slots: Number(live[2]) });
    // The 14th instrument is the stack used, in bytes of this 64-bit host's 32-byte slots.
    const instruments = /^instruments: (.*)$/.exec(line);
    if (instruments) peakStackSlots = Math.max(peakStackSlots, Number(instruments[1].split(',')[13]) / 32);
    if ((!live && !instruments) || (live && memory.length % 30 === 0)) log(`lin: ${line}`);
  }
};
mcsim.stdout!.on('data', onOutput);
mcsim.stderr!.on('data', onOutput);
mcsim.on('exit', (code, signal) => log(`mcsim exited (${code ?? signal})`));

const startMs = Date.now();
const firstSlot = Math.floor(startMs / (SLOT_S * 1000));
const untilSlot = async (k: number) => {
  const wait = (firstSlot + k) * SLOT_S * 1000 - Date.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
};

await untilSlot(ROTATE_AT);
const effectiveSlot = firstSlot + ROTATE_AT + 4;
const announce = { publicKey: newPair.publicKey, previousKeyId: oldPair.publicKey.keyId, effectiveSlot };
const announcer = await mqtt.connectAsync(BROKER_URL, clientTls);
await announcer.publishAsync(KEY_ANNOUNCEMENT_TOPIC, JSON.stringify(signKeyAnnouncement(generateSigningKey(), announce)), {
  qos: 1,
  retain: true,
});
await new Promise((resolve) => setTimeout(resolve, 1500));
await announcer.publishAsync(KEY_ANNOUNCEMENT_TOPIC, JSON.stringify(signKeyAnnouncement(signer, announce)), { qos: 1, retain: true });
await announcer.endAsync();
log(`published a forged and the genuine announcement, effective at slot +${ROTATE_AT + 4}`);
await untilSlot(OUTAGE_AT);
stopBroker();
await untilSlot(OUTAGE_AT + OUTAGE_SLOTS);
startBroker();
await untilSlot(SLOTS);
await new Promise((resolve) => setTimeout(resolve, 3000));
const exitedEarly = mcsim.exitCode !== null || mcsim.signalCode !== null;
process.kill(-mcsim.pid!, 'SIGTERM');

const reports = sink.distinct(config.meterId);
const packing = packingFor(config);
let decrypted = 0;
let underWrongKey = 0;
for (const r of reports) {
  const pair = r.keyId === newPair.publicKey.keyId ? newPair : oldPair;
  if (r.slot >= effectiveSlot !== (pair === newPair)) underWrongKey++;
  const readings = packing.unpack(pair.privateKey.decrypt(ciphertextFromBytes(pair.publicKey, r.ciphertext)));
  if (readings.every((mwh) => mwh >= 0n)) decrypted++;
}
const slots = reports.map((r) => r.slot - firstSlot);
const summary = {
  variant: VARIANT,
  tls: TLS,
  slotSeconds: SLOT_S,
  wallMinutes: Math.round((Date.now() - startMs) / 600) / 100,
  reports: reports.length,
  slotsSpanned: slots.length ? slots[slots.length - 1] - slots[0] + 1 : 0,
  lastDropped: reports.at(-1)?.dropped,
  lastSeq: reports.at(-1)?.seq,
  decrypted,
  underWrongKey,
  underNewKey: reports.filter((r) => r.keyId === newPair.publicKey.keyId).length,
  refusedBySink: sink.rejected.length,
  memorySamples: memory.length,
  liveChunksPeak: Math.max(...memory.map((m) => m.chunks)),
  liveChunksLast: memory.at(-1)?.chunks,
  liveSlotsPeak: Math.max(...memory.map((m) => m.slots)),
  liveSlotsLast: memory.at(-1)?.slots,
  stackPeakSlots: peakStackSlots,
  exitedEarly,
  aborts: lines.filter((l) => /abort|memory full|Chunk allocation/i.test(l)),
  meterLines: lines.filter((l) => l.startsWith('meter ')).slice(0, 40),
};
writeFileSync(`${OUT}/lines.txt`, lines.join('\n'));
writeFileSync(`${OUT}/summary.json`, JSON.stringify(summary, null, 2));
log(JSON.stringify(summary, null, 2));
await sink.close();
stopBroker();
process.exit(0);
