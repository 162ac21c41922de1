/** Counts refusals by named reason; keeps the total and the part not yet saved. */
export class ReasonCounter {
  readonly totals = new Map<string, number>();
  private unsaved = new Map<string, number>();

  constructor(initial: Record<string, number> = {}) {
    for (const [reason, n] of Object.entries(initial)) this.totals.set(reason, n);
  }

  count(reason: string, n = 1) {
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
