// A closed-loop load: N logical clients, each sending one request, awaiting its answer and
// sending the next. Only requests that complete inside the measured window count; the warm-up
// before it lets connections, JIT and the servers' caches settle.
import { performance } from 'node:perf_hooks';

export interface ClosedLoopOptions {
  readonly clients: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** One request of logical client `client`; a rejection counts as an error. */
  readonly request: (client: number) => Promise<void>;
  /** CPU seconds used so far by the server processes. */
  readonly serverCpuSeconds: () => number;
}

export interface ClosedLoopResult {
  readonly completed: number;
  readonly errors: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** CPU used during the window, in % of one core (the machine has `nproc` of them). */
  readonly clientCpuPercent: number;
  readonly serverCpuPercent: number;
  /** Milliseconds of CPU the servers used per completed request (0 when none completed). */
  readonly serverCpuMsPerOp: number;
}

/** After a failed request a client pauses this long, so that errors cannot spin the CPU. */
const ERROR_PAUSE_MS = 5;

/** Nearest-rank percentile of ascending `sorted`; 0 for no samples. */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

interface CpuSnapshot {
  readonly at: number;
  readonly client: NodeJS.CpuUsage;
  readonly servers: number;
}

export async function runClosedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const started = performance.now();
  const measureFrom = started + options.warmupMs;
  const end = measureFrom + options.durationMs;
  const latencies: number[] = [];
  let errors = 0;

  const snapshot = (): CpuSnapshot => ({
    at: performance.now(),
    client: process.cpuUsage(),
    servers: options.serverCpuSeconds(),
  });
  // Timers can fire late on a busy event loop; the snapshots carry their own timestamps.
  const cpuAtStart = new Promise<CpuSnapshot>((resolve) =>
    setTimeout(() => resolve(snapshot()), options.warmupMs),
  );
  const cpuAtEnd = new Promise<CpuSnapshot>((resolve) =>
    setTimeout(() => resolve(snapshot()), options.warmupMs + options.durationMs),
  );

  await Promise.all(
    Array.from({ length: options.clients }, async (_, client) => {
      while (performance.now() < end) {
        const sent = performance.now();
        try {
          await options.request(client);
          const done = performance.now();
          if (done >= measureFrom && done < end) latencies.push(done - sent);
        } catch {
          const done = performance.now();
          if (done >= measureFrom && done < end) errors++;
          await new Promise((resolve) => setTimeout(resolve, ERROR_PAUSE_MS));
        }
      }
    }),
  );

  const [first, last] = await Promise.all([cpuAtStart, cpuAtEnd]);
  const cpuWindowMs = last.at - first.at;
  const clientCpuUs =
    last.client.user - first.client.user + (last.client.system - first.client.system);
  const sorted = Float64Array.from(latencies).sort();
  return {
    completed: sorted.length,
    errors,
    opsPerSecond: sorted.length / (options.durationMs / 1000),
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    clientCpuPercent: (clientCpuUs / 1000 / cpuWindowMs) * 100,
    serverCpuPercent: (((last.servers - first.servers) * 1000) / cpuWindowMs) * 100,
    serverCpuMsPerOp:
      sorted.length === 0 ? 0 : ((last.servers - first.servers) * 1000) / sorted.length,
  };
}
