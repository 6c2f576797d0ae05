// The kinds of value an environment variable can hold. Each one knows what it accepts and
// how to say so in one line, so a bad value can be reported as "expected <what>".
import { isIPv6 } from 'node:net';

/** How to read the text of one environment variable. */
export interface EnvType<T> {
  /** What a good value looks like, completing "expected ..." (e.g. "an integer port 1-65535"). */
  readonly expected: string;
  /** The value read from `raw` (already trimmed, never empty), or undefined if `raw` is bad. */
  parse(raw: string): T | undefined;
}

const INTEGER = /^[+-]?\d+$/;

export interface IntOptions {
  readonly min?: number;
  readonly max?: number;
}

/** A whole number, optionally bounded (inclusive). */
export function int(options: IntOptions = {}): EnvType<number> {
  const { min, max } = options;
  return {
    expected: `an integer${describeRange(min, max)}`,
    parse(raw) {
      if (!INTEGER.test(raw)) return undefined;
      const value = Number(raw);
      if (!Number.isSafeInteger(value)) return undefined;
      if (min !== undefined && value < min) return undefined;
      if (max !== undefined && value > max) return undefined;
      return value + 0; // "-0" is 0, not the -0 that prints as 0 but is not Object.is 0
    },
  };
}

/** A TCP port to listen on or connect to. */
export function port(): EnvType<number> {
  const integer = int({ min: 1, max: 65535 });
  return { expected: 'an integer port 1-65535', parse: (raw) => integer.parse(raw) };
}

export interface StringOptions {
  /** The value must match this pattern as a whole. */
  readonly pattern?: RegExp;
  /** Replaces the generic description in error messages. */
  readonly description?: string;
}

/** Any non-empty text (an empty variable counts as unset), optionally matching a pattern. */
export function string(options: StringOptions = {}): EnvType<string> {
  const { pattern } = options;
  return {
    expected:
      options.description ??
      (pattern ? `a string matching ${String(pattern)}` : 'a non-empty string'),
    parse: (raw) => (pattern && !pattern.test(raw) ? undefined : raw),
  };
}

const HOST_NAME = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*\.?$/;

/** A host name or IP address (no scheme, no port); an IPv6 address may be in brackets. */
export function host(): EnvType<string> {
  return {
    expected: 'a host name or IP address',
    parse(raw) {
      const bracketed = /^\[(.*)\]$/.exec(raw)?.[1];
      if (bracketed !== undefined) return isIPv6(bracketed) ? raw : undefined;
      return HOST_NAME.test(raw) || isIPv6(raw) ? raw : undefined;
    },
  };
}

/** One of a fixed set of words, spelled exactly. */
export function enumOf<const V extends string>(values: readonly V[]): EnvType<V> {
  return {
    expected: `one of ${values.join(', ')}`,
    parse: (raw) => values.find((value) => value === raw),
  };
}

/** `true`/`false` (any case), or `1`/`0`. */
export function boolean(): EnvType<boolean> {
  return {
    expected: 'true or false',
    parse(raw) {
      const word = raw.toLowerCase();
      if (word === 'true' || word === '1') return true;
      if (word === 'false' || word === '0') return false;
      return undefined;
    },
  };
}

// The unit is required: a bare number meant milliseconds in one place and seconds in another,
// so `5` is refused rather than guessed.
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const MS_PER_UNIT: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export interface DurationOptions {
  /** Smallest accepted duration in milliseconds (inclusive). */
  readonly minMs?: number;
  /** Largest accepted duration in milliseconds (inclusive). */
  readonly maxMs?: number;
}

/**
 * A duration with its unit (`500ms`, `5s`, `2m`, `1h`), read as whole milliseconds: the one
 * duration syntax of every CATMESH_* variable and every command-line option.
 */
export function duration(options: DurationOptions = {}): EnvType<number> {
  const { minMs, maxMs } = options;
  return {
    expected: `a duration${describeDurationRange(minMs, maxMs)} with its unit, such as 500ms, 5s or 2m`,
    parse(raw) {
      const match = DURATION.exec(raw);
      if (!match) return undefined;
      const value = Math.round(Number(match[1]) * (MS_PER_UNIT[match[2] ?? ''] ?? Number.NaN));
      if (!Number.isSafeInteger(value)) return undefined;
      if (minMs !== undefined && value < minMs) return undefined;
      if (maxMs !== undefined && value > maxMs) return undefined;
      return value + 0; // "-0s" is 0, as in int()
    },
  };
}

/** `5s` for 5000, `1500ms` for 1500: a duration in the form `duration()` reads. */
export function formatDuration(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

function describeDurationRange(min: number | undefined, max: number | undefined): string {
  const [low, high] = [min, max].map((ms) => (ms === undefined ? undefined : formatDuration(ms)));
  if (low !== undefined && high !== undefined) return ` from ${low} to ${high}`;
  if (low !== undefined) return ` of at least ${low}`;
  if (high !== undefined) return ` of at most ${high}`;
  return '';
}

export interface UrlOptions {
  /** Accepted schemes, without the colon. */
  readonly schemes?: readonly string[];
}

/** An absolute URL with one of the given schemes (http and https by default), kept as written. */
export function url(options: UrlOptions = {}): EnvType<string> {
  const schemes = options.schemes ?? ['http', 'https'];
  return {
    expected: `a URL starting with ${schemes.map((scheme) => `${scheme}://`).join(' or ')}`,
    parse(raw) {
      if (!URL.canParse(raw)) return undefined;
      const parsed = new URL(raw);
      return schemes.includes(parsed.protocol.slice(0, -1)) && parsed.host !== '' ? raw : undefined;
    },
  };
}

export interface ListOptions {
  readonly separator?: string;
}

/** Items separated by commas (or `separator`), each read by `item`; blanks around items are ignored. */
export function list<T>(item: EnvType<T>, options: ListOptions = {}): EnvType<T[]> {
  const separator = options.separator ?? ',';
  return {
    expected: `a list separated by "${separator}", each item ${item.expected}`,
    parse(raw) {
      const values: T[] = [];
      for (const part of raw.split(separator)) {
        const text = part.trim();
        if (text === '') continue;
        const value = item.parse(text);
        if (value === undefined) return undefined;
        values.push(value);
      }
      return values;
    },
  };
}

function describeRange(min: number | undefined, max: number | undefined): string {
  if (min !== undefined && max !== undefined) return ` ${min}-${max}`;
  if (min !== undefined) return ` >= ${min}`;
  if (max !== undefined) return ` <= ${max}`;
  return '';
}
