import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';
import type { GrpcRedMetrics } from '../metrics/grpc-metrics.js';
import { describeRpc } from './rpc-method.js';

/** Counts each call (each attempt, behind the retry interceptor) and times it to its status. */
export function clientMetricsInterceptor(metrics: GrpcRedMetrics): Interceptor {
  return (options, nextCall) => {
    const rpc = describeRpc(options.method_definition);
    return new InterceptingCall(nextCall(options), {
      start: (metadata, _listener, next) => {
        const startedAt = performance.now();
        metrics.started(rpc);
        next(metadata, {
          onReceiveStatus: (status, nextStatus) => {
            metrics.handled(rpc, status.code, (performance.now() - startedAt) / 1000);
            nextStatus(status);
          },
        });
      },
    });
  };
}
