import { Counter, Histogram, type Registry } from 'prom-client';
import { statusName, type RpcMethod } from '../grpc/rpc-method.js';

type MethodLabel = 'grpc_service' | 'grpc_method' | 'grpc_type';
const METHOD_LABELS: readonly MethodLabel[] = ['grpc_service', 'grpc_method', 'grpc_type'];

// Prometheus' default buckets, plus 1 ms and 2.5 ms: calls over loopback are often faster than 5 ms.
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * RED metrics (rate, errors, duration) of the gRPC calls of one side, under the names
 * go-grpc-prometheus established: `grpc_{server,client}_started_total`,
 * `grpc_{server,client}_handled_total{grpc_code}` and `grpc_{server,client}_handling_seconds`.
 */
export class GrpcRedMetrics {
  readonly #started: Counter<MethodLabel>;
  readonly #handled: Counter<MethodLabel | 'grpc_code'>;
  readonly #handlingSeconds: Histogram<MethodLabel>;

  constructor(registry: Registry, side: 'server' | 'client') {
    const where = side === 'server' ? 'on the server' : 'by the client';
    this.#started = new Counter({
      name: `grpc_${side}_started_total`,
      help: `Total number of RPCs started ${where}.`,
      labelNames: METHOD_LABELS,
      registers: [registry],
    });
    this.#handled = new Counter({
      name: `grpc_${side}_handled_total`,
      help: `Total number of RPCs completed ${where}, regardless of success or failure.`,
      labelNames: [...METHOD_LABELS, 'grpc_code'],
      registers: [registry],
    });
    this.#handlingSeconds = new Histogram({
      name: `grpc_${side}_handling_seconds`,
      help: `Histogram of response latency (seconds) of gRPC calls completed ${where}.`,
      labelNames: METHOD_LABELS,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    });
  }

  /** Makes the method's started counter exist at 0, so a rate over it is 0 rather than absent. */
  initialize(rpc: RpcMethod): void {
    this.#started.inc(methodLabels(rpc), 0);
  }

  started(rpc: RpcMethod): void {
    this.#started.inc(methodLabels(rpc));
  }

  handled(rpc: RpcMethod, code: number, seconds: number): void {
    const labels = methodLabels(rpc);
    this.#handled.inc({ ...labels, grpc_code: statusName(code) });
    this.#handlingSeconds.observe(labels, seconds);
  }
}

function methodLabels(rpc: RpcMethod): Record<MethodLabel, string> {
  return { grpc_service: rpc.service, grpc_method: rpc.method, grpc_type: rpc.type };
}

// A registry refuses a second metric of the same name, and a process has many clients (and
// possibly servers) recording into its one registry: each side's metrics exist once per registry.
const serverMetrics = new WeakMap<Registry, GrpcRedMetrics>();
const clientMetrics = new WeakMap<Registry, GrpcRedMetrics>();

export function grpcServerMetrics(registry: Registry): GrpcRedMetrics {
  return memoized(serverMetrics, registry, 'server');
}

export function grpcClientMetrics(registry: Registry): GrpcRedMetrics {
  return memoized(clientMetrics, registry, 'client');
}

function memoized(
  cache: WeakMap<Registry, GrpcRedMetrics>,
  registry: Registry,
  side: 'server' | 'client',
): GrpcRedMetrics {
  let metrics = cache.get(registry);
  if (!metrics) {
    metrics = new GrpcRedMetrics(registry, side);
    cache.set(registry, metrics);
  }
  return metrics;
}
