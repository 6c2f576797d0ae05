// Rates and quantiles over a sliding window of scrapes. A Prometheus counter (or a histogram's
// cumulative buckets) only grows, so what happened in the window is the newest scrape minus
// the oldest one still in it; a process restart resets the counters, and then the window
// starts again at the restart rather than going negative.

/** One scrape of a set of counters (series key → cumulative value), and when it was read. */
export interface CounterScrape {
  readonly atMs: number;
  readonly values: ReadonlyMap<string, number>;
}

/** What the counters did over the window: each key's increase, over `seconds`. */
export interface CounterDelta {
  readonly seconds: number;
  readonly increases: ReadonlyMap<string, number>;
}

export class CounterWindow {
  readonly #windowMs: number;
  #scrapes: CounterScrape[] = [];

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  add(scrape: CounterScrape): void {
    const last = this.#scrapes.at(-1);
    if (last && isReset(last, scrape)) this.#scrapes = [];
    this.#scrapes.push(scrape);
    // Keep one scrape at or before the window's start: it is the baseline of the increase.
    const start = scrape.atMs - this.#windowMs;
    while (this.#scrapes.length > 2 && this.#scrapes[1]!.atMs <= start) this.#scrapes.shift();
  }

  /** Undefined until two scrapes are in the window. */
  delta(): CounterDelta | undefined {
    const first = this.#scrapes[0];
    const last = this.#scrapes.at(-1);
    if (!first || !last || last.atMs <= first.atMs) return undefined;
    const increases = new Map<string, number>();
    for (const [key, value] of last.values)
      increases.set(key, value - (first.values.get(key) ?? 0));
    return { seconds: (last.atMs - first.atMs) / 1000, increases };
  }
}

/** A counter went down, or a series the previous scrape had is gone: the process restarted. */
function isReset(before: CounterScrape, after: CounterScrape): boolean {
  for (const [key, value] of before.values) {
    const now = after.values.get(key);
    if (now === undefined || now < value) return true;
  }
  return false;
}

/**
 * The `q` quantile (0..1) of a histogram's observations from its cumulative bucket counts
 * (upper bound `le` → count of observations at or below it, `+Inf` included), interpolated
 * linearly inside the bucket the rank falls in, as Prometheus' histogram_quantile does.
 * Undefined with no observations; the highest finite bound when the rank is in `+Inf`.
 */
export function histogramQuantile(
  q: number,
  buckets: ReadonlyMap<number, number>,
): number | undefined {
  const sorted = [...buckets].sort(([a], [b]) => a - b);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return undefined;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (bound === Infinity) return lowerBound;
      if (count === lowerCount) return bound;
      return lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / (count - lowerCount);
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}
