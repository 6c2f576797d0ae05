// Durations in experiment files are strings with a unit (`500ms`, `10s`, `2m`): a bare number
// would leave the reader guessing whether it means milliseconds or seconds. At most 9 digits
// before the point: 999999999h is still a whole number of milliseconds a double holds exactly.

/** The JSON Schema pattern of a duration; parseDuration accepts exactly these. */
export const DURATION_PATTERN = '^(0|[0-9]{1,9}(\\.[0-9]+)?(ms|s|m|h))$';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:0|(\d{1,9}(?:\.\d+)?)(ms|s|m|h))$/;

/** Milliseconds of `500ms`, `1.5s`, `2m`, `1h` or `0`; undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text);
  if (!match) return undefined;
  if (match[1] === undefined) return 0;
  return Math.round(Number(match[1]) * UNIT_MS[match[2]!]!);
}

/** `1.5s`, `250ms`, `2m`: the shortest exact form, for plans and reports. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1_000 && ms % 100 === 0) return `${ms / 1_000}s`;
  return `${Math.round(ms)}ms`;
}
