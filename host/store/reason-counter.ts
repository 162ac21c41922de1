import type { Reason } from '../../firmware/errors.ts';

/**
 * Counts refusals by named reason; keeps the total and the part not yet saved. Counts read back
 * from a store keep whatever names they were saved under; new counts take catalogued reasons.
 */
export class ReasonCounter<R extends string = Reason> {
  readonly totals = new Map<string, number>();
  private unsaved = new Map<string, number>();

  constructor(initial: Record<string, number> = {}) {
    for (const [reason, n] of Object.entries(initial)) this.totals.set(reason, n);
  }

  count(reason: R, n = 1) {
    this.totals.set(reason, (this.totals.get(reason) ?? 0) + n);
    this.unsaved.set(reason, (this.unsaved.get(reason) ?? 0) + n);
  }

  /** The counts since the last call, for the caller to persist. */
  takeUnsaved(): Map<string, number> {
    const out = this.unsaved;
    this.unsaved = new Map();
    return out;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.totals].sort(([a], [b]) => (a < b ? -1 : 1)));
  }
}
