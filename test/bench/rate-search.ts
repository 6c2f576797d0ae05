// The highest offered rate a system sustains: rates stepped up geometrically until one fails,
// then bisected between the last that passed and the first that failed. What "passed" means is
// the caller's measure; this only chooses the rates.

export interface RateSearchOptions {
  /** The first rate tried. */
  readonly start: number;
  /** Each rate of the ramp is the last one times this (rounded, at least one more). */
  readonly factor: number;
  /** Bisection steps once the ramp has failed. */
  readonly refine: number;
  /** The ramp stops here even when every rate passed. */
  readonly maxRate: number;
}

export interface SearchStep<R> {
  readonly rate: number;
  /** Ramp steps first, then the bisection's. */
  readonly phase: 'ramp' | 'refine';
  readonly result: R;
}

export interface SearchResult<R> {
  /** The highest rate that passed; 0 when none did. */
  readonly sustained: number;
  /** The lowest rate that failed; undefined when every rate up to maxRate passed. */
  readonly failedAt: number | undefined;
  readonly steps: readonly SearchStep<R>[];
}

export async function searchSustainedRate<R extends { readonly passed: boolean }>(
  options: RateSearchOptions,
  measure: (rate: number) => Promise<R>,
): Promise<SearchResult<R>> {
  const steps: SearchStep<R>[] = [];
  const run = async (rate: number, phase: SearchStep<R>['phase']) => {
    const result = await measure(rate);
    steps.push({ rate, phase, result });
    return result.passed;
  };
  let passed = 0;
  let failed: number | undefined;
  for (let rate = options.start; rate <= options.maxRate;) {
    if (!(await run(rate, 'ramp'))) {
      failed = rate;
      break;
    }
    passed = rate;
    rate = Math.max(rate + 1, Math.round(rate * options.factor));
  }
  for (let i = 0; i < options.refine && failed !== undefined; i++) {
    const rate = Math.round((passed + failed) / 2);
    if (rate <= passed || rate >= failed) break;
    if (await run(rate, 'refine')) passed = rate;
    else failed = rate;
  }
  return { sustained: passed, failedAt: failed, steps };
}
