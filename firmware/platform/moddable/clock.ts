/** The port's clock on Moddable: wall-clock time (set by SNTP at boot) and the SDK's timers. */
import Timer from 'timer';
import type { Clock, TimerHandle } from '../port.ts';

export const moddableClock: Clock = {
  now: () => Date.now(),
  setTimer: (callback, delayMs) => Timer.set(() => callback(), Math.max(0, delayMs)),
  clearTimer: (handle: TimerHandle) => {
    if (handle !== undefined) Timer.clear(handle as Timer);
  },
};
