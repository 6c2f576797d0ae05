// The SLIs of the load: every call counted by operation and outcome, its latency in a histogram
// (Prometheus, for experiments and dashboards), and the same kept for the current report window.
import { Counter, Histogram, type Registry } from 'prom-client';

export type Operation = 'place_order' | 'read_cat_state';
export const OPERATIONS: readonly Operation[] = ['place_order', 'read_cat_state'];

/**
 * `ok`: answered as asked; `rejected`: an order answered REJECTED (the shop worked, the stock ran
 * out); `failed`: an order answered FAILED; anything else is the gRPC status that failed the call
 * (`unavailable`, `deadline_exceeded`, ...).
 */
export type Outcome = string;

export interface WindowStats {
  readonly calls: number;
  readonly ok: number;
  readonly rejected: number;
  /** Due calls not started because the concurrency limit was reached. */
  readonly skipped: number;
  /** Latencies of answered calls (any outcome), in milliseconds, ascending. */
  readonly latenciesMs: readonly number[];
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface OpenWindow {
  calls: number;
  ok: number;
  rejected: number;
  skipped: number;
  latenciesMs: number[];
}

export class SliRecorder {
  readonly #requests: Counter;
  readonly #duration: Histogram;
  readonly #skipped: Counter;
  #window = new Map<Operation, OpenWindow>();

  constructor(registry: Registry) {
    this.#requests = new Counter({
      name: 'loadgen_requests_total',
      help: 'Calls made by the load generator, by operation and outcome.',
      labelNames: ['operation', 'outcome'],
      registers: [registry],
    });
    this.#duration = new Histogram({
      name: 'loadgen_request_duration_seconds',
      help: 'Latency of the calls made by the load generator, as the client saw it.',
      labelNames: ['operation'],
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
    this.#skipped = new Counter({
      name: 'loadgen_skipped_total',
      help: 'Calls due by the pace but not started: the concurrency limit was reached.',
      labelNames: ['operation'],
      registers: [registry],
    });
    for (const operation of OPERATIONS) {
      this.#requests.inc({ operation, outcome: 'ok' }, 0);
      this.#skipped.inc({ operation }, 0);
    }
  }

  record(operation: Operation, outcome: Outcome, seconds: number): void {
    this.#requests.inc({ operation, outcome });
    this.#duration.observe({ operation }, seconds);
    const window = this.#open(operation);
    window.calls += 1;
    if (outcome === 'ok') window.ok += 1;
    if (outcome === 'rejected') window.rejected += 1;
    window.latenciesMs.push(seconds * 1000);
  }

  skipped(operation: Operation): void {
    this.#skipped.inc({ operation });
    this.#open(operation).skipped += 1;
  }

  /** The window since the last call of this, per operation; a new one starts. */
  takeWindow(): ReadonlyMap<Operation, WindowStats> {
    const closed = this.#window;
    this.#window = new Map();
    return new Map(
      [...closed].map(([operation, w]) => [
        operation,
        { ...w, latenciesMs: [...w.latenciesMs].sort((a, b) => a - b) },
      ]),
    );
  }

  #open(operation: Operation): OpenWindow {
    let window = this.#window.get(operation);
    if (!window) {
      window = { calls: 0, ok: 0, rejected: 0, skipped: 0, latenciesMs: [] };
      this.#window.set(operation, window);
    }
    return window;
  }
}
