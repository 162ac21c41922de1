/**
 * The PZEM-004T's UART on the ESP32: ECMA-419 `embedded:io/serial` at 9600 baud 8N1, for the
 * portable Modbus driver (firmware/sensors/pzem004t.ts), which owns addressing, timeouts and misses.
 */
import Serial from 'embedded:io/serial';
import type { Uart } from '../../sensors/pzem004t.ts';

export class SerialUart implements Uart {
  private serial: Serial | undefined;

  constructor(private readonly options: { uartPort: number; receivePin: number; transmitPin: number }) {}

  open(onReceive: (bytes: Uint8Array) => void): void {
    this.serial = new Serial({
      port: this.options.uartPort,
      receive: this.options.receivePin,
      transmit: this.options.transmitPin,
      baud: 9600,
      format: 'buffer',
      onReadable(bytes: number) {
        const data = this.read(bytes) as ArrayBuffer | undefined;
        if (data) onReceive(new Uint8Array(data));
      },
    });
  }

  write(bytes: Uint8Array): void {
    if (!this.serial) throw new Error('serial port not open');
    this.serial.write(bytes);
  }

  close(): void {
    const serial = this.serial;
    this.serial = undefined;
    serial?.close();
  }
}
