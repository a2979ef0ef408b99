// Bounded concurrency for sandbox runs, and an in-order consumer for results that complete
// out of order (so keep/dedupe decisions do not depend on scheduling).

export class Semaphore {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1)
      throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await fn();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/**
 * Evaluates items with up to `concurrency` in flight and hands results to `accept` strictly
 * in item order. `accept` returns false to stop: nothing new starts, results still in flight
 * are awaited and dropped. The outcome is the same as a sequential loop's, for any timing.
 */
export async function orderedPool<T, R>(
  items: readonly T[],
  concurrency: number,
  evaluate: (item: T, index: number) => Promise<R>,
  accept: (result: R, item: T, index: number) => boolean,
): Promise<void> {
  const results = new Map<number, R>();
  let next = 0;
  let committed = 0;
  let stopped = false;
  let failure: { error: unknown } | undefined;
  let wake: (() => void) | undefined;
  const inFlight = new Set<Promise<void>>();

  const start = (index: number): void => {
    const p = evaluate(items[index] as T, index)
      .then((r) => void results.set(index, r))
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => {
        inFlight.delete(p);
        wake?.();
      });
    inFlight.add(p);
  };

  while (true) {
    while (!stopped && failure === undefined && next < items.length && inFlight.size < concurrency) start(next++);
    while (!stopped && results.has(committed)) {
      const r = results.get(committed) as R;
      results.delete(committed);
      if (!accept(r, items[committed] as T, committed)) stopped = true;
      committed++;
    }
    if (failure !== undefined || stopped || committed >= items.length) break;
    await new Promise<void>((resolve) => {
      wake = resolve;
    });
    wake = undefined;
  }
  await Promise.allSettled([...inFlight]);
  if (failure !== undefined) throw failure.error;
}
