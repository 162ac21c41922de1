/**
 * The Espruino bundle for boards (meterveil-board.js) reading a PZEM-004T over a UART: the shared Modbus driver
 * (firmware/sensors/pzem004t.ts) on the Espruino adapter (`Serial2` on D16/D17, binary strings),
 * in the sandbox with a simulated PZEM on that serial port which answers each read request 40 ms
 * later, in virtual time, with the power it is set to. Two meters at constant power report four
 * slots: every slot decrypts to exactly the energy of that power, and no request went unanswered.
 * A board given the simulated household, which that bundle does not have, stays off the network.
 */
import { sandboxedRoles } from './helpers/rig.ts';
import test from 'ava';
import { modbusCrc } from '../../firmware/sensors/pzem004t.ts';
import { VirtualClock } from '../../firmware/platform/virtual-clock.ts';
import { CONFIG_FILE } from '../../firmware/platform/espruino/storage.ts';
import { espruinoMeterConfig } from '../../host/provision/espruino.ts';
import { buildEspruinoScript } from '../../tools/espruino/build.ts';
import { espruinoBoard } from '../../tools/espruino/sandbox.ts';
import { deploy, ids } from '../../tools/pipeline/deployment.ts';

const START = Date.UTC(2026, 8, 1, 12, 0, 0);
const SLOT_MS = 900_000;
const SLOTS = 4;

/** A PZEM-004T on Espruino's `Serial2`: the 25-byte reply of read input registers 0..9 to each request for its address. */
function simulatedPzem(clock: VirtualClock, address: number, watts: number) {
  const listeners: ((data: string) => void)[] = [];
  const requests: number[][] = [];
  const reply = () => {
    const frame = new Uint8Array(25);
    frame.set([address, 0x04, 20]);
    const power = Math.round(watts * 10);
    frame.set([(power >> 8) & 255, power & 255, (power >>> 24) & 255, (power >> 16) & 255], 9);
    const crc = modbusCrc(frame, 23);
    frame[23] = crc & 255;
    frame[24] = crc >> 8;
    return Buffer.from(frame).toString('latin1');
  };
  return {
    requests,
    serial: {
      setup(baud: number, pins: { rx: unknown; tx: unknown }) {
        if (baud !== 9600 || pins.rx !== 'pin D16' || pins.tx !== 'pin D17')
          throw new Error(`Serial2.setup(${baud}, ${JSON.stringify(pins)})`);
      },
      on(event: string, listener: (data: string) => void) {
        if (event === 'data') listeners.push(listener);
      },
      removeAllListeners() {
        listeners.length = 0;
      },
      write(data: string) {
        const bytes = [...Buffer.from(data, 'latin1')];
        requests.push(bytes);
        if (bytes[0] === address && bytes[1] === 0x04) clock.setTimer(() => listeners.forEach((l) => l(reply())), 40);
      },
    },
  };
}

test('two board bundles on PZEM-004T sensors over Serial: every slot the exact energy of their power; a simulated sensor refused', async (t) => {
  const code = await buildEspruinoScript('board');
  const members = ids('ep', 2);
  const d = await deploy({
    groups: [{ id: 'street', members, feeder: 'feeder-street', k: 2 }],
    masked: {},
    extra: { slotSeconds: 900, latenessSeconds: 60, skewSeconds: 30, packing: { readings: 3, maxGroupSize: 100, maxPowerWatts: 23_000 } },
  });
  t.teardown(() => d.cleanup());
  const { clock, decrypted, boards, allDecrypted } = await sandboxedRoles(t, d, code, START);
  // 1,200 W and 900 W: 100,000 and 75,000 mWh per five-minute sub-slot, exactly.
  const pzems = [simulatedPzem(clock, 1, 1200), simulatedPzem(clock, 7, 900)];
  members.forEach((meterId, i) =>
    boards.add(
      d,
      meterId,
      {
        sampleMs: 60_000,
        checkpointSeconds: 60,
        sensor: { kind: 'pzem004t', uartPort: 2, receivePin: 16, transmitPin: 17, address: i === 0 ? 1 : 7 },
      },
      { D16: 'pin D16', D17: 'pin D17', Serial2: pzems[i].serial },
    ),
  );
  // The simulated household is the Linux bundle's: this one refuses the configuration and stays off the network.
  const lines: string[] = [];
  const simulated = espruinoBoard({
    clock,
    files: new Map([
      [CONFIG_FILE, JSON.stringify(espruinoMeterConfig(d.config, d.secrets, members[0], { sampleMs: 60_000, checkpointSeconds: 60 }))],
    ]),
    log: (line) => lines.push(line),
  });
  simulated.run(code);
  t.is(simulated.run('typeof meterveil'), 'undefined');
  t.true(lines.some((line) => line.includes('"simulated" is for the Linux build')));
  await boards.connected();
  for (let k = 1; k <= SLOTS; k++) await boards.advanceTo(START + k * SLOT_MS, k);
  await allDecrypted(START + SLOTS * SLOT_MS, SLOTS);
  t.deepEqual(
    decrypted.map((x) => x.total),
    Array.from({ length: SLOTS }, () => 3n * (100_000n + 75_000n)),
  );
  for (const meterId of members) {
    const { sensor, sensorMisses } = boards.stats(meterId);
    t.is(sensorMisses, 0);
    t.like(sensor, { misses: 0, reinits: 0 });
    t.true(sensor.replies >= SLOTS * 15);
  }
  // Each request is the 8-byte read of input registers 0..9 for the meter's address, CRC included.
  const request = pzems[1].requests[0];
  t.deepEqual(request.slice(0, 6), [7, 0x04, 0, 0, 0, 10]);
  t.is(modbusCrc(Uint8Array.from(request), 6), request[6] | (request[7] << 8));
});
