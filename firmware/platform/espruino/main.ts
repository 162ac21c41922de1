/**
 * The Espruino meter's entry for the Linux build and the sandboxed tests (build/espruino/meterveil.js):
 * every sensor, the simulated household among them. tools/espruino/build.ts bundles it.
 */
import { SimulatedSensor } from '../../sensors/simulated-sensor.ts';
import { bootEspruinoMeter } from './boot.ts';
import { boardSensor } from './sensors.ts';

bootEspruinoMeter((sensor, clock, sampleMs) =>
  sensor.kind === 'simulated' ? new SimulatedSensor(clock, sensor) : boardSensor(sensor, clock, sampleMs),
);
