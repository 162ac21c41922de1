/**
 * A PZEM-004T v3 on the other end of a simulated UART, in virtual time: it answers a valid read
 * of input registers 0..9 at its own address (or the general address 0xF8) after `replyDelayMs`,
 * in two chunks as a UART driver delivers them, and ignores anything else, as the device does.
 * Request k (from 0) takes the k-th fault of `faults` (none past its end) and reports `watts(k)`. Runs inside XS with the
 * driver under test; its CRC is written out here rather than taken from the driver.
 */
import type { Uart } from '../../../firmware/sensors/pzem004t.ts';
import type { VirtualClock } from '../../../firmware/platform/virtual-clock.ts';

export type PzemFault = 'none' | 'silent' | 'late' | 'bad-crc' | 'wrong-address' | 'wrong-function' | 'exception' | 'short' | 'garbage';

function crc16Modbus(bytes: number[]): number {
  let crc = 0xffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let bit = 0; bit < 8; bit++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

function withCrc(bytes: number[]): number[] {
  const crc = crc16Modbus(bytes);
  return [...bytes, crc & 0xff, crc >>> 8];
}

function words(value: number): number[] {
  return [(value >>> 8) & 0xff, value & 0xff];
}

export class SimulatedPzemUart implements Uart {
  opens = 0;
  closes = 0;
  readonly requests: number[][] = [];
  private receiver: ((bytes: Uint8Array) => void) | undefined;
  /** Garbage comes from a fixed xorshift sequence, so runs repeat exactly. */
  private noise = 0x2545f491;

  constructor(
    private readonly clock: VirtualClock,
    private readonly device: { address: number; replyDelayMs: number; lateDelayMs: number; watts: (request: number) => number },
    readonly faults: PzemFault[],
  ) {}

  open(onReceive: (bytes: Uint8Array) => void): void {
    if (this.receiver) throw new Error('port already open');
    this.receiver = onReceive;
    this.opens += 1;
  }

  close(): void {
    this.receiver = undefined;
    this.closes += 1;
  }

  write(bytes: Uint8Array): void {
    if (!this.receiver) throw new Error('port not open');
    const request = [...bytes];
    this.requests.push(request);
    const fault = this.faults.shift() ?? 'none';
    const [address, fn, startHigh, startLow, countHigh, countLow] = request;
    const valid =
      request.length === 8 &&
      (address === this.device.address || address === 0xf8) &&
      fn === 0x04 &&
      ((startHigh << 8) | startLow) === 0 &&
      ((countHigh << 8) | countLow) === 10 &&
      crc16Modbus(request.slice(0, 6)) === (request[6] | (request[7] << 8));
    if (!valid || fault === 'silent') return;
    const reply = this.reply(fault);
    const receiver = this.receiver;
    const split = Math.min(7, reply.length);
    const delay = fault === 'late' ? this.device.lateDelayMs : this.device.replyDelayMs;
    this.clock.setTimer(() => {
      if (this.receiver === receiver) receiver(new Uint8Array(reply.slice(0, split)));
    }, delay);
    this.clock.setTimer(() => {
      if (this.receiver === receiver && split < reply.length) receiver(new Uint8Array(reply.slice(split)));
    }, delay + 10);
  }

  private reply(fault: PzemFault): number[] {
    const address = this.device.address;
    if (fault === 'exception') return withCrc([address, 0x84, 0x02]);
    if (fault === 'garbage') return Array.from({ length: 25 }, () => this.nextNoise());
    const deciwatts = Math.round(this.device.watts(this.requests.length - 1) * 10);
    const milliamps = Math.round((deciwatts / 10 / 230.1 / 0.95) * 1000);
    const registers = [
      2301, // 230.1 V
      milliamps % 65536, // current in mA, low word first
      Math.floor(milliamps / 65536),
      deciwatts % 65536,
      Math.floor(deciwatts / 65536),
      12_345,
      0, // energy in Wh
      500, // 50.0 Hz
      95, // power factor 0.95
      0, // no alarm
    ];
    const frame = withCrc([
      fault === 'wrong-address' ? (address % 247) + 1 : address,
      fault === 'wrong-function' ? 0x03 : 0x04,
      fault === 'short' ? 18 : 20,
      ...registers.slice(0, fault === 'short' ? 9 : 10).flatMap(words),
    ]);
    if (fault === 'bad-crc') frame[frame.length - 1] ^= 0x5a;
    return frame;
  }

  private nextNoise(): number {
    let x = this.noise;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.noise = x >>> 0;
    return this.noise & 0xff;
  }
}
