/**
 * A clock that moves only when told to: the simulation's time. `advanceTo(t)` fires every timer
 * due at or before t in time order (timers set by a firing timer included), with now() equal to
 * each timer's due time while it runs, and leaves now() at t. Deterministic: ties fire in the
 * order they were set.
 */
import { fail } from '../errors.ts';
import type { Clock, TimerHandle } from './port.ts';

interface PendingTimer {
  id: number;
  dueMs: number;
  callback: () => void;
}

export class VirtualClock implements Clock {
  private current: number;
  private nextId = 1;
  private pending: PendingTimer[] = [];

  constructor(startMs: number) {
    this.current = startMs;
  }

  now(): number {
    return this.current;
  }

  setTimer(callback: () => void, delayMs: number): TimerHandle {
    const timer = { id: this.nextId++, dueMs: this.current + Math.max(0, delayMs), callback };
    // Kept sorted by (due, id); the list holds a handful of timers per meter.
    let at = this.pending.length;
    while (at > 0 && this.pending[at - 1].dueMs > timer.dueMs) at--;
    this.pending.splice(at, 0, timer);
    return timer.id;
  }

  clearTimer(handle: TimerHandle): void {
    if (handle === undefined) return;
    this.pending = this.pending.filter((t) => t.id !== handle);
  }

  get pendingTimers(): number {
    return this.pending.length;
  }

  advanceTo(targetMs: number): void {
    if (targetMs < this.current) fail('clock-went-back', 'virtual time only moves forward');
    while (this.pending.length > 0 && this.pending[0].dueMs <= targetMs) {
      const timer = this.pending.shift()!;
      this.current = timer.dueMs;
      timer.callback();
    }
    this.current = targetMs;
  }
}
