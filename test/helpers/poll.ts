/**
 * The one way tests wait for something they can only observe by looking: poll a condition on the
 * event loop until it gives a truthy value (returned), or fail naming what was awaited.
 */
type Truthy<T> = Exclude<T, false | 0 | '' | null | undefined>;

export async function until<T>(
  condition: () => T | Promise<T>,
  what: string,
  timeoutMs = 10_000,
  detail: () => string = () => '',
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value) return value as Truthy<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail()}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
