import type { Operation, WindowStats } from './sli-recorder.js';

/** Nearest-rank percentile of ascending `sorted`; undefined when there is nothing. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

/**
 * One line for a report window:
 * `orders 9.8/s ok 100.0% p50 12ms p99 40ms | cat.state reads 5.0/s ok 100.0% p50 2ms p99 5ms`.
 * "ok" counts every answered call (a REJECTED order is an answer; its share is shown apart).
 */
export function summaryLine(window: ReadonlyMap<Operation, WindowStats>, seconds: number): string {
  const parts: string[] = [];
  const orders = window.get('place_order');
  if (orders) parts.push(`orders ${describe(orders, seconds)}`);
  const reads = window.get('read_cat_state');
  if (reads) parts.push(`cat.state reads ${describe(reads, seconds)}`);
  return parts.length > 0 ? parts.join(' | ') : 'no calls';
}

function describe(stats: WindowStats, seconds: number): string {
  const answered = stats.ok + stats.rejected;
  const words = [`${(stats.calls / seconds).toFixed(1)}/s`];
  words.push(`ok ${stats.calls === 0 ? '-' : ((100 * answered) / stats.calls).toFixed(1)}%`);
  if (stats.rejected > 0)
    words.push(`(rejected ${((100 * stats.rejected) / stats.calls).toFixed(1)}%)`);
  const p50 = percentile(stats.latenciesMs, 50);
  const p99 = percentile(stats.latenciesMs, 99);
  if (p50 !== undefined && p99 !== undefined) words.push(`p50 ${ms(p50)} p99 ${ms(p99)}`);
  if (stats.skipped > 0) words.push(`skipped ${stats.skipped}`);
  return words.join(' ');
}

function ms(value: number): string {
  return value < 10 ? `${value.toFixed(1)}ms` : `${Math.round(value)}ms`;
}

/** The window's figures as log fields (no raw latencies): per operation, rates in calls/s. */
export function summaryFields(
  window: ReadonlyMap<Operation, WindowStats>,
  seconds: number,
): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [operation, stats] of window) {
    fields[operation] = {
      rate: Number((stats.calls / seconds).toFixed(2)),
      calls: stats.calls,
      ok: stats.ok,
      rejected: stats.rejected,
      skipped: stats.skipped,
      p50_ms: rounded(percentile(stats.latenciesMs, 50)),
      p99_ms: rounded(percentile(stats.latenciesMs, 99)),
    };
  }
  return fields;
}

function rounded(value: number | undefined): number | undefined {
  return value === undefined ? undefined : Math.round(value * 10) / 10;
}
