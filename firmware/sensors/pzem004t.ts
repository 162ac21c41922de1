/**
 * PZEM-004T v3 energy monitor over a UART (Modbus-RTU, 9600 baud 8N1): each read returns the
 * active power of the reply to the previous request and sends the next request to the configured
 * slave address. The sensor is asynchronous while the meter's sampling is not, so a reading is
 * one sample period old; that is well below a sub-slot.
 *
 * A request that gets no valid reply within the reply timeout is a miss: no reply, a bad CRC, a
 * reply from another address, another function code, a Modbus exception or a frame of the wrong
 * length. Misses are counted by reason and never stop the next request. After `reinitAfterMisses`
 * misses in a row the UART is closed and opened again (a wedged driver or a framing error that
 * never clears). A miss holds the last good power for the next sample only: the reading must be
 * at most two sample periods old, so one lost reply costs nothing, and a sensor that stays
 * silent reads as missing, which the meter counts and integrates as no energy.
 */
import type { Clock, PowerSensor, SensorStats, TimerHandle } from '../platform/port.ts';
import type { FirmwareReason } from '../reasons/index.ts';

/** The byte link to the PZEM, as the platform provides it (ECMA-419 `embedded:io/serial` on the ESP32). */
export interface Uart {
  /** Opens the port; `onReceive` gets every byte that arrives, in order, in chunks of any size. */
  open(onReceive: (bytes: Uint8Array) => void): void;
  write(bytes: Uint8Array): void;
  close(): void;
}

export type PzemMiss = Extract<
  FirmwareReason,
  'sensor-timeout' | 'sensor-bad-crc' | 'sensor-wrong-address' | 'sensor-wrong-function' | 'sensor-exception' | 'sensor-bad-frame'
>;

export interface PzemOptions {
  /** Modbus slave address, 1..247 (0xF8, the general address, would let any PZEM on the bus answer). */
  address: number;
  replyTimeoutMs: number;
  reinitAfterMisses: number;
  /** A good reading older than this is not used (two sample periods: the previous reply and, after one miss, the one before). */
  maxAgeMs: number;
}

const READ_INPUT_REGISTERS = 0x04;
const EXCEPTION = 0x80 | READ_INPUT_REGISTERS;
const REGISTER_COUNT = 10;
const REPLY_BYTES = 3 + 2 * REGISTER_COUNT + 2;
const EXCEPTION_BYTES = 5;
const BAUD = 9600;
/** Bits per byte on the wire at 8N1: start, 8 data, stop. */
const BITS_PER_BYTE = 10;
/** Request and reply on the wire at 9600 baud: 34.4 ms. */
export const PZEM_FRAME_MS = ((8 + REPLY_BYTES) * BITS_PER_BYTE * 1000) / BAUD;
/** Twice the frame time for a late start of either side, plus the PZEM's own measuring turn. */
export const PZEM_REPLY_TIMEOUT_MS = Math.ceil(2 * PZEM_FRAME_MS + 100);
export const PZEM_REINIT_AFTER_MISSES = 3;

/** CRC-16/MODBUS (reflected polynomial 0xA001, initial 0xFFFF) of bytes[0..length). */
export function modbusCrc(bytes: Uint8Array, length = bytes.length): number {
  let crc = 0xffff;
  for (let i = 0; i < length; i++) {
    crc ^= bytes[i];
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

/** Read input registers 0..9 (voltage, current, power, energy, frequency, power factor, alarm). */
export function pzemReadRequest(address: number): Uint8Array {
  const frame = new Uint8Array([address, READ_INPUT_REGISTERS, 0, 0, 0, REGISTER_COUNT, 0, 0]);
  const crc = modbusCrc(frame, 6);
  frame[6] = crc & 0xff;
  frame[7] = crc >>> 8;
  return frame;
}

export class Pzem004tSensor implements PowerSensor {
  private readonly frame = new Uint8Array(REPLY_BYTES);
  private received = 0;
  private awaiting = false;
  private timer: TimerHandle;
  private consecutiveMisses = 0;
  private latestWatts: number | undefined;
  private latestAt = 0;
  private fromLastRequest = false;
  private readonly counters = { requests: 0, replies: 0, misses: 0, reinits: 0, held: 0 };
  private readonly missesByReason: Partial<Record<PzemMiss, number>> = {};
  private readonly request: Uint8Array;
  private readonly onReceive = (bytes: Uint8Array): void => this.receive(bytes);

  constructor(
    private readonly uart: Uart,
    private readonly clock: Clock,
    private readonly options: PzemOptions,
  ) {
    this.request = pzemReadRequest(options.address);
    uart.open(this.onReceive);
    // Asked at once, so that the first sample already has a reading.
    this.send();
  }

  readPowerWatts(): number | undefined {
    // A reply still missing when the next sample comes is a timeout whatever the timer says.
    if (this.awaiting) this.miss('sensor-timeout');
    const watts = this.clock.now() - this.latestAt <= this.options.maxAgeMs ? this.latestWatts : undefined;
    if (watts !== undefined && !this.fromLastRequest) this.counters.held += 1;
    this.send();
    return watts;
  }

  stats(): SensorStats {
    return { ...this.counters, missesByReason: { ...this.missesByReason } };
  }

  private send(): void {
    this.received = 0;
    this.fromLastRequest = false;
    this.awaiting = true;
    this.counters.requests += 1;
    try {
      this.uart.write(this.request);
    } catch {
      // A UART that refuses a write is as good as a lost reply: the timeout counts it.
    }
    this.timer = this.clock.setTimer(() => {
      this.timer = undefined;
      if (this.awaiting) this.miss('sensor-timeout');
    }, this.options.replyTimeoutMs);
  }

  private receive(bytes: Uint8Array): void {
    // Bytes outside a request (a late reply after its timeout, line noise) are dropped.
    for (let i = 0; i < bytes.length && this.awaiting; i++) {
      this.frame[this.received++] = bytes[i];
      if (this.received === 2 && this.frame[1] !== READ_INPUT_REGISTERS && this.frame[1] !== EXCEPTION) {
        this.miss(this.frame[0] === this.options.address ? 'sensor-wrong-function' : 'sensor-wrong-address');
      } else if (this.received === 3 && this.frame[1] === READ_INPUT_REGISTERS && this.frame[2] !== 2 * REGISTER_COUNT) {
        this.miss('sensor-bad-frame');
      } else if (this.received === (this.frame[1] === EXCEPTION ? EXCEPTION_BYTES : REPLY_BYTES)) {
        this.complete();
      }
    }
  }

  private complete(): void {
    const f = this.frame;
    const n = this.received;
    if (modbusCrc(f, n - 2) !== (f[n - 2] | (f[n - 1] << 8))) return this.miss('sensor-bad-crc');
    if (f[0] !== this.options.address) return this.miss('sensor-wrong-address');
    if (f[1] === EXCEPTION) return this.miss('sensor-exception');
    // Register r is data bytes 3 + 2r (high) and 4 + 2r; power is registers 3 (low word) and 4 (high word) in 0.1 W.
    const low = (f[9] << 8) | f[10];
    const high = (f[11] << 8) | f[12];
    this.settle();
    this.counters.replies += 1;
    this.consecutiveMisses = 0;
    this.latestWatts = (high * 65536 + low) / 10;
    this.latestAt = this.clock.now();
    this.fromLastRequest = true;
  }

  private miss(reason: PzemMiss): void {
    this.settle();
    this.counters.misses += 1;
    this.missesByReason[reason] = (this.missesByReason[reason] ?? 0) + 1;
    this.consecutiveMisses += 1;
    if (this.consecutiveMisses < this.options.reinitAfterMisses) return;
    this.consecutiveMisses = 0;
    this.counters.reinits += 1;
    try {
      this.uart.close();
    } catch {
      // Closing a broken port may fail; opening it again is what matters.
    }
    try {
      this.uart.open(this.onReceive);
    } catch {
      // Tried again after the next run of misses; meanwhile every request times out and is counted.
    }
  }

  private settle(): void {
    this.awaiting = false;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
  }
}
