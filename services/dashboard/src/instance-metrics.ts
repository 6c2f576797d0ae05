// What the dashboard reads from one instance's `/metrics`: the gRPC calls it answered and made
// (rates over the last seconds), and for loadgen the SLIs of PlaceOrder (over minutes).
import type { SlisView, SourceStatus } from './dashboard-snapshot.js';
import { CounterWindow, histogramQuantile } from './counter-window.js';
import { sumBy } from './metric-sums.js';

/** Rates over this long: enough to smooth one-second scrapes, short enough to follow a fault. */
const RATE_WINDOW_MS = 5_000;
/** Series keys of the client counters: `<grpc service> <calls|errors>`. */
const KEY_SEPARATOR = ' ';

export interface CallRates {
  readonly requestsPerSecond: number;
  readonly errorsPerSecond: number;
}

export interface InstanceRates extends CallRates {
  /** The calls this instance made, by the gRPC service called (`catmesh.orders.v1.OrderService`). */
  readonly clientCalls: ReadonlyMap<string, CallRates>;
}

export class InstanceMetrics {
  readonly #server = new CounterWindow(RATE_WINDOW_MS);
  readonly #client = new CounterWindow(RATE_WINDOW_MS);

  add(atMs: number, text: string): void {
    this.#server.add({ atMs, values: callCounts(text, 'grpc_server_handled_total', () => '') });
    this.#client.add({
      atMs,
      values: callCounts(text, 'grpc_client_handled_total', (labels) => labels['grpc_service']),
    });
  }

  /** Undefined until two scrapes are in the window. */
  rates(): InstanceRates | undefined {
    const server = this.#server.delta();
    const client = this.#client.delta();
    if (!server || !client) return undefined;
    const clientCalls = new Map<string, CallRates>();
    for (const [key, increase] of client.increases) {
      const [service = '', kind] = key.split(KEY_SEPARATOR);
      const rates = clientCalls.get(service) ?? { requestsPerSecond: 0, errorsPerSecond: 0 };
      const perSecond = increase / client.seconds;
      clientCalls.set(
        service,
        kind === 'errors'
          ? { ...rates, errorsPerSecond: perSecond }
          : { ...rates, requestsPerSecond: perSecond },
      );
    }
    return {
      requestsPerSecond: (server.increases.get(' calls') ?? 0) / server.seconds,
      errorsPerSecond: (server.increases.get(' errors') ?? 0) / server.seconds,
      clientCalls,
    };
  }
}

/**
 * Calls and errors (not OK) of a `grpc_*_handled_total`, by `groupOf`'s key. Health checks are
 * left out: `catmesh status`, the runner and Kubernetes ask those, and they would drown an idle
 * instance's real traffic.
 */
function callCounts(
  text: string,
  name: string,
  groupOf: (labels: Readonly<Record<string, string>>) => string | undefined,
): Map<string, number> {
  const counts = new Map<string, number>();
  for (const kind of ['calls', 'errors'] as const) {
    const sums = sumBy(text, name, (labels) => {
      if (labels['grpc_service'] === 'grpc.health.v1.Health') return undefined;
      if (kind === 'errors' && labels['grpc_code'] === 'OK') return undefined;
      const group = groupOf(labels);
      return group === undefined ? undefined : `${group}${KEY_SEPARATOR}${kind}`;
    });
    for (const [key, value] of sums) counts.set(key, value);
  }
  return counts;
}

/**
 * loadgen's SLIs of PlaceOrder over a sliding window: `loadgen_requests_total` by outcome
 * (an order answered REJECTED, out of stock, is the shop working: it counts as a success, as in
 * loadgen's own summary line) and the quantiles of `loadgen_request_duration_seconds`.
 */
export class LoadgenSlis {
  readonly #windowMs: number;
  readonly #outcomes: CounterWindow;
  readonly #buckets: CounterWindow;

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
    this.#outcomes = new CounterWindow(windowMs);
    this.#buckets = new CounterWindow(windowMs);
  }

  add(atMs: number, text: string): void {
    const placeOrder = (labels: Readonly<Record<string, string>>, key: string | undefined) =>
      labels['operation'] === 'place_order' ? key : undefined;
    this.#outcomes.add({
      atMs,
      values: sumBy(text, 'loadgen_requests_total', (labels) =>
        placeOrder(labels, labels['outcome']),
      ),
    });
    this.#buckets.add({
      atMs,
      values: sumBy(text, 'loadgen_request_duration_seconds_bucket', (labels) =>
        placeOrder(labels, labels['le']),
      ),
    });
  }

  view(source: SourceStatus): SlisView {
    const windowSeconds = this.#windowMs / 1000;
    const outcomes = this.#outcomes.delta();
    const buckets = this.#buckets.delta();
    let orders = 0;
    let answered = 0;
    for (const [outcome, count] of outcomes?.increases ?? []) {
      orders += count;
      if (outcome === 'ok' || outcome === 'rejected') answered += count;
    }
    const bounds = new Map<number, number>();
    for (const [le, count] of buckets?.increases ?? []) {
      bounds.set(le === '+Inf' ? Infinity : Number(le), count);
    }
    const p50 = histogramQuantile(0.5, bounds);
    const p99 = histogramQuantile(0.99, bounds);
    return {
      source,
      windowSeconds,
      orders,
      ...(orders > 0 && { orderSuccessRatio: answered / orders }),
      ...(p50 !== undefined && { placeOrderP50Ms: p50 * 1000 }),
      ...(p99 !== undefined && { placeOrderP99Ms: p99 * 1000 }),
    };
  }
}
