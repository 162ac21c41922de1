/**
 * Every refusal in meterveil carries a stable, named reason so that callers can count
 * rejections by reason and operators can grep for them. The message explains it to a person.
 */
export class MeterveilError extends Error {
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(`${reason}: ${message}`);
    this.name = 'MeterveilError';
    this.reason = reason;
  }
}

export function fail(reason: string, message: string): never {
  throw new MeterveilError(reason, message);
}
