/**
 * Power from a PZEM-004T energy monitor (UART Modbus) through the SDK's driver. The driver
 * answers asynchronously, so each read returns the latest completed sample (at most one sample
 * interval old) and asks for the next; a sample older than two intervals counts as missing.
 */
import PZEM004T from 'embedded:sensor/Energy/PZEM004T';
import type { PowerSensor } from '../../port.ts';

export class Pzem004tSensor implements PowerSensor {
  private readonly sensor: PZEM004T;
  private latestWatts: number | undefined;
  private latestAt = 0;
  private busy = false;

  constructor(
    options: { uartPort: number; receivePin: number; transmitPin: number; address: number },
    private readonly maxAgeMs: number,
  ) {
    this.sensor = new PZEM004T({
      sensor: { ...device.Serial.default, port: options.uartPort, receive: options.receivePin, transmit: options.transmitPin },
    });
  }

  readPowerWatts(): number | undefined {
    this.request();
    if (this.latestWatts === undefined || Date.now() - this.latestAt > this.maxAgeMs) return undefined;
    return this.latestWatts;
  }

  private request(): void {
    if (this.busy) return;
    this.busy = true;
    this.sensor.sample((error, sample) => {
      this.busy = false;
      if (error || !sample || !Number.isFinite(sample.power)) return;
      this.latestWatts = sample.power;
      this.latestAt = Date.now();
    });
  }
}
