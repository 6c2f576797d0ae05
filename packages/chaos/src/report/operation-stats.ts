// SLIs from operation samples: success ratio and latency percentiles per window, per-second
// series for the charts, and the times that tell how a fault was felt (first failure, first
// success after it, recovery of the steady state).
import type { Probe } from '../experiment/experiment-types.js';
import type { OperationSample } from '../workload/operation-log.js';
import type {
  OperationReport,
  SeriesPoint,
  TimeWindow,
  WindowName,
  WindowStats,
} from './report-types.js';

const BUCKET_MS = 1_000;

/** The nearest-rank percentile of sorted values (p in (0, 100]). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function windowStats(samples: readonly OperationSample[], window: TimeWindow): WindowStats {
  const inside = samples.filter((s) => s.at >= window.start && s.at < window.end);
  const ok = inside.filter((s) => s.ok);
  const latencies = ok.map((s) => s.latencyMs).sort((a, b) => a - b);
  return {
    total: inside.length,
    ok: ok.length,
    failed: inside.length - ok.length,
    successRatio: inside.length === 0 ? null : ok.length / inside.length,
    p50Ms: round(percentile(latencies, 50)),
    p99Ms: round(percentile(latencies, 99)),
    maxMs: round(latencies.at(-1) ?? null),
  };
}

/** The value a probe bounds, from a window's stats. */
export function sliValue(stats: WindowStats, probe: Probe): number | null {
  const sli = probe.sli.split('.')[1] as 'successRatio' | 'p50Ms' | 'p99Ms';
  return stats[sli];
}

/** Whether a value meets a probe; a window without data does not prove anything, so it fails. */
export function probeHolds(value: number | null, probe: Probe): boolean {
  if (value === null) return false;
  if (probe.atLeast !== undefined && value < probe.atLeast) return false;
  if (probe.atMost !== undefined && value > probe.atMost) return false;
  return true;
}

export interface OperationTimes {
  readonly windows: Readonly<Record<WindowName, TimeWindow>>;
  /** When the first fault was applied (the fault window's start if none applied). */
  readonly firstFaultAt: number;
  /** The probes of this operation; none means "every operation succeeds". */
  readonly probes: readonly Probe[];
}

export function operationReport(
  name: string,
  label: string,
  samples: readonly OperationSample[],
  times: OperationTimes,
): OperationReport {
  const { windows } = times;
  const series = seriesOf(samples, windows.before.start, windows.after.end);
  const firstFailure = samples.find((s) => !s.ok && s.at >= times.firstFaultAt);
  const nextSuccess = firstFailure && samples.find((s) => s.ok && s.at > firstFailure.at);
  return {
    name,
    label,
    windows: {
      before: windowStats(samples, windows.before),
      during: windowStats(samples, windows.during),
      after: windowStats(samples, windows.after),
    },
    timeToFirstFailureMs: firstFailure ? round(firstFailure.at - times.firstFaultAt) : null,
    timeToFirstSuccessMs:
      firstFailure && nextSuccess ? round(nextSuccess.at - firstFailure.at) : null,
    timeToRecoveryMs: recoveryTime(samples, times),
    errors: topErrors(samples),
    series,
  };
}

/**
 * The first second after the fault window from which every second with traffic meets the probes
 * (or has no failure, without probes), measured from the window's end.
 */
function recoveryTime(samples: readonly OperationSample[], times: OperationTimes): number | null {
  const { after } = times.windows;
  const buckets = seriesOf(samples, after.start, after.end);
  const good = (point: SeriesPoint): boolean => {
    const total = point.ok + point.failed;
    if (total === 0) return true;
    if (times.probes.length === 0) return point.failed === 0;
    return times.probes.every((probe) => {
      const sli = probe.sli.split('.')[1];
      const value =
        sli === 'successRatio' ? point.ok / total : sli === 'p50Ms' ? point.p50Ms : point.p99Ms;
      return probeHolds(value, probe);
    });
  };
  let from: number | null = null;
  for (const point of buckets) {
    if (!good(point)) from = null;
    else from ??= point.at;
  }
  return from === null ? null : round(from - after.start);
}

function seriesOf(samples: readonly OperationSample[], start: number, end: number): SeriesPoint[] {
  const points: SeriesPoint[] = [];
  for (let at = start; at < end; at += BUCKET_MS) {
    const inside = samples.filter((s) => s.at >= at && s.at < Math.min(end, at + BUCKET_MS));
    const latencies = inside
      .filter((s) => s.ok)
      .map((s) => s.latencyMs)
      .sort((a, b) => a - b);
    points.push({
      at: round(at)!,
      ok: latencies.length,
      failed: inside.length - latencies.length,
      p50Ms: round(percentile(latencies, 50)),
      p99Ms: round(percentile(latencies, 99)),
    });
  }
  return points;
}

function topErrors(samples: readonly OperationSample[]): { error: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const sample of samples) {
    if (sample.ok || sample.error === undefined) continue;
    // The reason without the instance-specific tail (addresses, ids), so alike failures group.
    const reason = sample.error.replace(/\b\d+(\.\d+)?(ms|s)\b/g, 'N').slice(0, 160);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([error, count]) => ({ error, count }));
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 10) / 10;
}
