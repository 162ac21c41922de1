/**
 * The Espruino meter's entry for boards (build/espruino/meterveil-board.js): the CT clamp and the
 * PZEM-004T only. Without the simulated household (its load profile is a 14 KB string) the loaded
 * bundle takes about 750 fewer variables on Espruino, a quarter of them.
 */
import { bootEspruinoMeter } from './boot.ts';
import { boardSensor } from './sensors.ts';

bootEspruinoMeter(boardSensor);
