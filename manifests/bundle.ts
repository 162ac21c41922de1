/** `npm run bundle:device`: the device firmware bundles for mcconfig (host/flash/device-bundle.ts). */
import { bundleDeviceFirmware } from '../host/flash/device-bundle.ts';

for (const target of ['esp32', 'lin'] as const) process.stdout.write(`${await bundleDeviceFirmware(target)}\n`);
