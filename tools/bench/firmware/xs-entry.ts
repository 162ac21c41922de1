/**
 * XS side of the firmware benchmark (tools/bench/suites/firmware.ts). `setup` builds a meter's
 * configuration for a key; `prepare` does the untimed set-up of a sample; `run` times a loop
 * inside XS (performance.now), so the pipe to Node does not count.
 *   slot-work     what the meter does per slot once the readings are known: take r^n from the
 *                 pool, pack, encrypt online, frame, MAC (portable HMAC-SHA256), store in the outbox
 *   slot-work-custodians  the same, with one authenticator per custodian of the configuration
 *                 (threshold mode: the report body hashed once, each custodian's HMAC over the digest)
 *   encrypt-full  one complete encryption (fresh r^n), the reference for the 2% target
 *   refill-rn     one pool entry: r^n mod n^2, what idle time has to keep up with
 *   masked-slot-work  the masked scheme's per-slot work (firmware/masked/): pack, mask (HMAC-SHA256
 *                 in counter mode to W bits under the provider's mask key), the ledger's claim,
 *                 frame, MAC, outbox; it needs no precomputation, so it is its online and full cost
 *   masked-slot-work-custodians  the same in verifiable mode: one mask per custodian, summed, and
 *                 one authenticator per custodian
 */
import { seededRandomForTests } from '../../xs/seeded-random.ts';
import { serveCommands } from '../../../firmware/platform/xs-sim/xs-side.ts';
import { validateConfig, type MeterConfig } from '../../../firmware/config/schema.ts';
import { maxReadingMwh } from '../../../firmware/meter/energy.ts';
import { packingFor, subSlotMs } from '../../../firmware/meter/meter.ts';
import { Outbox, outboxCapacityFor } from '../../../firmware/meter/outbox.ts';
import { sealSlotReport } from '../../../firmware/meter/seal.ts';
import { deriveCustodianKey } from '../../../firmware/protocol/meter-keys.ts';
import type { SlotPacking } from '../../../firmware/paillier/packing.ts';
import { RandomnessPool } from '../../../firmware/paillier/pool.ts';
import type { PaillierPublicKey } from '../../../firmware/paillier/public-key.ts';
import { keyedHmacSha256 } from '../../../firmware/platform/keyed-hmac.ts';
import { MemoryStorage } from '../../../firmware/platform/memory-storage.ts';
import { MaskLedger } from '../../../firmware/masked/ledger.ts';
import { deriveMaskKey } from '../../../firmware/masked/mask.ts';
import { maskedPackingFor } from '../../../firmware/masked/params.ts';
import { maskReadings } from '../../../firmware/masked/seal.ts';
import { encodeReport } from '../../../firmware/protocol/report.ts';

interface State {
  config: MeterConfig;
  packing: SlotPacking;
  outbox: Outbox;
  custodianKeys: Uint8Array[];
  rns: bigint[];
  readings: number[];
  pool?: RandomnessPool;
  slot: number;
  masked: { packing: SlotPacking; ledger: MaskLedger; providerKey: Uint8Array[]; custodianMaskKeys: Uint8Array[] };
}

/** A masked deployment's key id (a provisioning generation of the mask keys). */
const MASK_KEY_ID = '00000000000000aa';

// Reproducible inputs for a measurement; the meter itself draws from the platform's generator.
const random = seededRandomForTests('firmware-benchmark');
let state: State | undefined;
let _sink: unknown;
// The MAC the simulated meter uses: keyed states derived once per key.
const mac = keyedHmacSha256();

function current(): State {
  if (!state) throw new Error('setup first');
  return state;
}

/** Pool entries recycled from a few real r^n: the cost of take() is the same, refilling thousands is not. */
function recyclingPool(s: State, size: number): RandomnessPool {
  let next = 0;
  const key = Object.create(s.config.publicKey, { precomputeRn: { value: () => s.rns[next++ % s.rns.length] } }) as PaillierPublicKey;
  const pool = new RandomnessPool(key, random, Math.max(size, 1));
  pool.refill(size);
  return pool;
}

const slotWork = (s: State, custodianKeys: Uint8Array[]) =>
  sealSlotReport(
    { config: s.config, publicKey: s.config.publicKey, packing: s.packing, mac, custodianKeys, outbox: s.outbox },
    { slot: s.slot++, readings: s.readings },
    s.pool!.take(),
  );

function maskedSlotWork(s: State, maskKeys: Uint8Array[], custodianKeys: Uint8Array[]) {
  const slot = s.slot++;
  const ciphertext = maskReadings(s.readings.map(BigInt), s.masked.packing, maskKeys, MASK_KEY_ID, slot, mac);
  // Durable before the report leaves, as on the meter: no second value under this mask.
  s.masked.ledger.claim(MASK_KEY_ID, slot, ciphertext);
  const { meterId, macKey } = s.config;
  return s.outbox.push(slot, (seq, dropped) =>
    encodeReport({ keyId: MASK_KEY_ID, meterId, slot, seq, dropped, packed: s.readings.length, ciphertext }, macKey, mac, custodianKeys),
  );
}

const operations: Record<string, (s: State) => unknown> = {
  'masked-slot-work': (s) => maskedSlotWork(s, s.masked.providerKey, []),
  'masked-slot-work-custodians': (s) => maskedSlotWork(s, s.masked.custodianMaskKeys, s.custodianKeys),
  'slot-work': (s) => slotWork(s, []),
  'slot-work-custodians': (s) => slotWork(s, s.custodianKeys),
  'encrypt-full': (s) => s.config.publicKey.encrypt(s.packing.pack(s.readings.map(BigInt)), random),
  'refill-rn': (s) => s.config.publicKey.precomputeRn(random),
};

serveCommands((command: { op: string; config?: unknown; name?: string; iterations?: number }) => {
  switch (command.op) {
    case 'setup': {
      const config = validateConfig(command.config);
      const packing = packingFor(config);
      const top = maxReadingMwh(config.packing.maxPowerWatts, subSlotMs(config));
      // Readings of an ordinary household: a few hundred watts, below the packing bound.
      const readings = Array.from({ length: config.packing.readings }, (_, i) => Math.min(top, 5000 + 137 * i));
      const rns = [0, 1, 2, 3].map(() => config.publicKey.precomputeRn(random));
      const custodianKeys = Array.from({ length: config.custodians }, (_, i) => deriveCustodianKey(config.deviceKey, i + 1, mac));
      const storage = new MemoryStorage();
      const outbox = new Outbox(storage, outboxCapacityFor(config.outboxCapacity, storage, config.publicKey.bits, config.custodians));
      const maskKey = (holder: number) => deriveMaskKey(config.deviceKey, MASK_KEY_ID, holder, mac);
      const masked = {
        packing: maskedPackingFor(config.slotSeconds, config.packing),
        ledger: new MaskLedger(new MemoryStorage()),
        providerKey: [maskKey(0)],
        custodianMaskKeys: custodianKeys.map((_, i) => maskKey(i + 1)),
      };
      state = { config, packing, outbox, custodianKeys, rns, readings, slot: 30_000_000, masked };
      const maskedBits = masked.packing.slotBits * masked.packing.readings;
      return { arith: config.publicKey.arith.kind, slotBits: packing.slotBits, readings: packing.readings, maskedBits };
    }
    case 'prepare': {
      const s = current();
      if (command.name!.startsWith('slot-work')) s.pool = recyclingPool(s, command.iterations!);
      return null;
    }
    case 'run': {
      const s = current();
      const operation = operations[command.name!];
      if (!operation) throw new Error(`unknown operation ${command.name}`);
      const start = performance.now();
      for (let i = 0; i < command.iterations!; i++) _sink = operation(s);
      return { ms: performance.now() - start };
    }
    default:
      throw new Error(`unknown command ${command.op}`);
  }
});
