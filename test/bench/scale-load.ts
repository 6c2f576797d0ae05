// Closed-loop put load that keeps every request's outcome with its completion time, so that one
// run can be cut afterwards into phases (before, during and after a fault), unlike runClosedLoop
// which measures one window.
import { performance } from 'node:perf_hooks';
import { percentile } from './closed-loop.js';

export interface Sample {
  /** performance.now() when the answer (or the error) came. */
  readonly at: number;
  readonly latencyMs: number;
  readonly ok: boolean;
}

export interface RunningLoad {
  readonly samples: Sample[];
  /** Stops sending and waits for the requests in flight. */
  stop(): Promise<void>;
}

/** After a failed request a client pauses this long, so that errors cannot spin the CPU. */
const ERROR_PAUSE_MS = 5;

export function startLoad(
  clients: number,
  request: (client: number) => Promise<void>,
): RunningLoad {
  const samples: Sample[] = [];
  let stopped = false;
  const done = Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      while (!stopped) {
        const sent = performance.now();
        try {
          await request(client);
          const at = performance.now();
          samples.push({ at, latencyMs: at - sent, ok: true });
        } catch {
          const at = performance.now();
          samples.push({ at, latencyMs: at - sent, ok: false });
          await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS));
        }
      }
    }),
  );
  return {
    samples,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

export interface PhaseFigures {
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
}

/** The requests answered in [from, to): successes per second, their latencies, and failures. */
export function phase(samples: readonly Sample[], from: number, to: number): PhaseFigures {
  const inside = samples.filter((s) => s.at >= from && s.at < to);
  const latencies = Float64Array.from(inside.filter((s) => s.ok).map((s) => s.latencyMs)).sort();
  return {
    opsPerSecond: latencies.length / ((to - from) / 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    errors: inside.length - latencies.length,
  };
}
