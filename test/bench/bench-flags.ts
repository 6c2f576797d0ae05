// The benchmarks' command-line values, checked one way for all of them: a bad flag throws a
// UsageError whose one line names the flag, what it takes and what it got.
import { parseArgs } from 'node:util';
import { envTypes } from '@catmesh/runtime';

export class UsageError extends Error {}

/**
 * Runs a benchmark's `main` on the command line and exits with its code; a UsageError prints its
 * one line and exits 2.
 */
export async function runBench(main: (argv: readonly string[]) => Promise<number>): Promise<void> {
  try {
    process.exitCode = await main(process.argv.slice(2));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(error.message);
    process.exitCode = 2;
  }
}

type StringOptions = Record<string, { readonly type: 'string'; readonly default?: string }>;

/** A flag with a default always has a value; one without may be missing. */
export type FlagValues<T extends StringOptions> = {
  readonly [K in keyof T]: T[K] extends { readonly default: string } ? string : string | undefined;
};

/** parseArgs with strict flags and no positionals; what it refuses becomes a UsageError. */
export function parseFlags<T extends StringOptions>(
  argv: readonly string[],
  options: T,
): FlagValues<T> {
  try {
    const { values } = parseArgs({
      args: [...argv],
      strict: true,
      allowPositionals: false,
      options,
    });
    // Every option is a string one, so parseArgs' values are exactly these (its own type is too
    // general to say so).
    return values as unknown as FlagValues<T>;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** A duration with its unit (500ms, 5s, 1m), and at least `minMs` if given. */
export function durationFlag(flag: string, raw: string, minMs?: number): number {
  const type = envTypes.duration(minMs === undefined ? {} : { minMs });
  const value = type.parse(raw.trim());
  if (value === undefined)
    throw new UsageError(`--${flag}: expected ${type.expected}, got "${raw}"`);
  return value;
}

/** A whole number (or, with `fraction`, a decimal one) of at least `min`. */
export function numberFlag(flag: string, raw: string, min: number, fraction = false): number {
  const value = Number(raw);
  const shape = fraction ? /^\d+(?:\.\d+)?$/ : /^\d+$/;
  if (!shape.test(raw.trim()) || value < min || !Number.isFinite(value)) {
    const what = fraction ? 'a number' : 'an integer';
    throw new UsageError(`--${flag}: expected ${what} of at least ${min}, got "${raw}"`);
  }
  return value;
}

/** A comma-separated list of whole numbers of at least `min`. */
export const numbersFlag = (flag: string, raw: string, min: number): number[] =>
  raw.split(',').map((item) => numberFlag(flag, item.trim(), min));

/** A comma-separated list of some of `allowed`, each once, in the order given. */
export function choicesFlag<T extends string>(
  flag: string,
  raw: string,
  allowed: readonly T[],
): T[] {
  const items = raw.split(',').map((item) => item.trim());
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw new UsageError(`--${flag}: expected some of ${allowed.join(', ')}, got "${item}"`);
    }
  }
  return [...new Set(items)] as T[];
}
