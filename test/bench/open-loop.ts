// An open-loop load: calls started on a fixed schedule (loadgen's pacer) whether or not the
// earlier ones have been answered, so a system that falls behind gets the same offered load and
// its queue shows in the latencies, where a closed loop would slow down with it. Each latency is
// counted from the call's scheduled time, not from when the event loop got round to it, so a
// late driver cannot hide the wait (no coordinated omission).
import { performance } from 'node:perf_hooks';
import { startPacer } from '../../services/loadgen/src/pacer.js';
import { percentile } from './closed-loop.js';

export interface OpenLoopOptions<S> {
  /** Calls per second. */
  readonly rate: number;
  /** Load before the measured window; its calls are not counted. */
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Call number `n` (from 0): resolves with `ok` or the name of what went wrong. */
  readonly call: (n: number) => Promise<string>;
  /** Taken when the measured window opens and when it closes (CPU counters, stock). */
  readonly snapshot: () => Promise<S>;
}

export interface OpenLoopResult<S> {
  /** Calls scheduled inside the measured window. */
  readonly offered: number;
  /** Those calls by outcome (`ok`, or what went wrong). */
  readonly outcomes: Readonly<Record<string, number>>;
  /** Nearest-rank percentiles over every call of the window, failed ones included. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** The window as the snapshots saw it: timers fire late on a busy machine. */
  readonly windowMs: number;
  readonly atStart: S;
  readonly atEnd: S;
}

/** Runs the load for warm-up plus duration, then waits for every call still in flight. */
export async function runOpenLoop<S>(options: OpenLoopOptions<S>): Promise<OpenLoopResult<S>> {
  const { rate, warmupMs, durationMs } = options;
  const startedAt = performance.now();
  const from = startedAt + warmupMs;
  const to = from + durationMs;
  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const inFlight = new Set<Promise<void>>();
  let sent = 0;

  const fire = () => {
    const n = sent++;
    // The pacer fires call n once (n + 1) / rate seconds have passed.
    const scheduled = startedAt + ((n + 1) * 1000) / rate;
    const counted = scheduled >= from && scheduled < to;
    const done = options
      .call(n)
      .then((outcome) => {
        if (!counted) return;
        latencies.push(performance.now() - scheduled);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };

  const pacer = startPacer(rate, fire);
  const at = (ms: number) =>
    new Promise<{ at: number; value: S }>((resolve, reject) =>
      setTimeout(() => {
        const taken = performance.now();
        options.snapshot().then((value) => resolve({ at: taken, value }), reject);
      }, ms),
    );
  const [start, end] = await Promise.all([at(warmupMs), at(warmupMs + durationMs)]);
  pacer.stop();
  // The calls due before the window closed that the pacer's last tick did not reach.
  while (startedAt + ((sent + 1) * 1000) / rate < to) fire();
  while (inFlight.size > 0) await Promise.all(inFlight);
  const sorted = Float64Array.from(latencies).sort();
  return {
    offered: sorted.length,
    outcomes,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    windowMs: end.at - start.at,
    atStart: start.value,
    atEnd: end.value,
  };
}
