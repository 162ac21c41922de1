/**
 * The sensor hardware of the configuration, on Espruino: a CT clamp on an analog pin
 * (`analogRead`) or a PZEM-004T on a UART (the shared Modbus driver, firmware/sensors/pzem004t.ts,
 * over `Serial<n>`). Pins are the board's `D<n>` globals. The simulated household is the Linux
 * entry's (main.ts), not a board's.
 */
import type { SensorConfig } from '../../config/schema.ts';
import { CtClampSensor } from '../../sensors/ct-clamp.ts';
import { Pzem004tSensor, type Uart } from '../../sensors/pzem004t.ts';
import { fail } from '../../errors.ts';
import type { Clock, PowerSensor } from '../port.ts';
import { binaryString, bytesOfBinaryString, globalNamed, readAnalog, type EspruinoSerial } from './api.ts';

/** analogRead gives 0..1 of the ADC's range; the clamp's calibration (ampsPerCount) is per count of a 12-bit ADC, as on Moddable. */
const ADC_COUNTS = 4095;
const PZEM_BAUD = 9600;

function pinNamed(pin: number): unknown {
  return globalNamed(`D${pin}`) || fail('invalid-config', `sensor: this board has no pin D${pin}`);
}

function serialUart(port: number, receivePin: number, transmitPin: number): Uart {
  const serial = (globalNamed(`Serial${port}`) ||
    fail('invalid-config', `sensor.uartPort: this board has no Serial${port}`)) as EspruinoSerial;
  return {
    open(onReceive) {
      serial.setup(PZEM_BAUD, { rx: pinNamed(receivePin), tx: pinNamed(transmitPin) });
      serial.on('data', (data) => onReceive(bytesOfBinaryString(data)));
    },
    write(bytes) {
      serial.write(binaryString(bytes));
    },
    close() {
      serial.removeAllListeners('data');
    },
  };
}

export function boardSensor(sensor: SensorConfig, clock: Clock, sampleMs: number): PowerSensor {
  if (sensor.kind === 'simulated')
    return fail('invalid-config', 'sensor.kind: "simulated" is for the Linux build (meterveil.js); a board needs "ct-clamp" or "pzem004t"');
  if (sensor.kind === 'pzem004t') {
    const uart = serialUart(sensor.uartPort, sensor.receivePin, sensor.transmitPin);
    return new Pzem004tSensor(uart, clock, {
      address: sensor.address,
      replyTimeoutMs: sensor.replyTimeoutMs,
      reinitAfterMisses: sensor.reinitAfterMisses,
      maxAgeMs: 2 * sampleMs,
    });
  }
  const pin = pinNamed(sensor.pin);
  return new CtClampSensor({ read: () => Math.round(readAnalog(pin) * ADC_COUNTS) }, sensor, () => clock.now());
}
