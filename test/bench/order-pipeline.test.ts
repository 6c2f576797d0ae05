// The order-pipeline benchmark's search and command line; the benchmark itself needs a whole
// mesh and minutes, so it runs on demand, not here.
import { describe, expect, it } from 'vitest';
import { UsageError } from './bench-flags.js';
import { parsePipelineOptions } from './order-pipeline-options.js';
import { searchSustainedRate } from './rate-search.js';

/** A system that sustains up to `capacity`: the rates tried, and the search's answer. */
async function searchAgainst(capacity: number, options = {}) {
  const tried: number[] = [];
  const result = await searchSustainedRate(
    { start: 10, factor: 1.5, refine: 2, maxRate: 100, ...options },
    (rate) => {
      tried.push(rate);
      return Promise.resolve({ passed: rate <= capacity });
    },
  );
  return { tried, result };
}

describe('searchSustainedRate', () => {
  it('ramps until a rate fails, then bisects below it', async () => {
    const { tried, result } = await searchAgainst(27);
    expect(tried).toEqual([10, 15, 23, 35, 29, 26]);
    expect(result.sustained).toBe(26);
    expect(result.failedAt).toBe(29);
    expect(result.steps.map((s) => s.phase)).toEqual([
      'ramp',
      'ramp',
      'ramp',
      'ramp',
      'refine',
      'refine',
    ]);
  });

  it('answers 0 when even the first rate fails', async () => {
    const { tried, result } = await searchAgainst(1);
    expect(tried).toEqual([10, 5, 3]);
    expect(result.sustained).toBe(0);
  });

  it('stops at the highest rate allowed when every rate passes', async () => {
    const { tried, result } = await searchAgainst(1000, { maxRate: 40 });
    expect(tried).toEqual([10, 15, 23, 35]);
    expect(result).toMatchObject({ sustained: 35, failedAt: undefined });
  });

  it('stops bisecting once the rates are next to each other', async () => {
    const { tried, result } = await searchAgainst(1, { start: 1, factor: 2, refine: 5 });
    expect(tried).toEqual([1, 2]);
    expect(result.sustained).toBe(1);
  });
});

describe('parsePipelineOptions', () => {
  it('has defaults for everything', () => {
    const options = parsePipelineOptions([]);
    expect(options.runs).toBe(3);
    expect(options.tracing).toEqual(['off', 'on']);
    expect(options.step.maxP99Ms).toBe(500);
  });

  it.each([
    [['--runs', '0'], '--runs: expected an integer of at least 1, got "0"'],
    [['--tracing', 'off,maybe'], '--tracing: expected some of off, on, got "maybe"'],
    [['--factor', '1'], '--factor: expected a number above 1, got "1"'],
    [['--min-ok', '101'], '--min-ok: expected a % up to 100, got "101"'],
    [['--port-base', '40000'], '--port-base: expected at most 30000, got "40000"'],
    [['--p99', '500'], '--p99: expected a duration of at least 1ms with its unit'],
    [['--nope'], "Unknown option '--nope'"],
  ])('refuses %j with one line', (argv, message) => {
    expect(() => parsePipelineOptions(argv)).toThrow(UsageError);
    expect(() => parsePipelineOptions(argv)).toThrow(message);
  });
});
