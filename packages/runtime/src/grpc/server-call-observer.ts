import {
  ServerInterceptingCall,
  status as grpcStatus,
  type ServerInterceptor,
} from '@grpc/grpc-js';
import {
  context,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
} from '@opentelemetry/api';
import {
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
} from '@opentelemetry/semantic-conventions';
import type { Logger } from 'pino';
import type { GrpcRedMetrics } from '../metrics/grpc-metrics.js';
import { metadataGetter } from './metadata-carrier.js';
import {
  ATTR_RPC_GRPC_STATUS_CODE,
  ATTR_RPC_METHOD,
  ATTR_RPC_SERVICE,
  ATTR_RPC_SYSTEM,
  RPC_SYSTEM_GRPC,
} from './rpc-attributes.js';
import { describeRpc, isServerFault, statusName } from './rpc-method.js';
import { parseHostPort } from './target-address.js';
import { TRACER_NAME } from './tracer-name.js';

export interface ServerCallObserverOptions {
  readonly metrics: GrpcRedMetrics;
  readonly logger: Logger;
  /**
   * Services whose calls get metrics but no spans and only debug-level access logs: health
   * checks and reflection, which probes and tools call all the time.
   */
  readonly quietServices: ReadonlySet<string>;
}

/**
 * A grpc-js server interceptor that sees every call on the server from the moment it arrives to
 * the status sent, whatever the call type and whoever produced the status (the handler, a thrown
 * error, the deadline): it records the RED metrics, writes the access log line and owns the
 * SERVER span. The span continues the caller's trace (W3C context extracted from the metadata),
 * and every event delivered to the handler (the call itself, each streamed message) is delivered
 * inside the span's context, so what the handler does nests under it.
 */
export function serverCallObserver(options: ServerCallObserverOptions): ServerInterceptor {
  const { metrics, logger, quietServices } = options;
  return (methodDefinition, call) => {
    const rpc = describeRpc(methodDefinition);
    const quiet = quietServices.has(rpc.service);
    const startedAt = performance.now();
    let span: Span | undefined;
    let spanContext: Context = context.active();
    let finished = false;
    metrics.started(rpc);

    const finish = (code: grpcStatus, details: string): void => {
      if (finished) return;
      finished = true;
      const seconds = (performance.now() - startedAt) / 1000;
      metrics.handled(rpc, code, seconds);
      if (span) {
        span.setAttribute(ATTR_RPC_GRPC_STATUS_CODE, code);
        if (isServerFault(code)) span.setStatus({ code: SpanStatusCode.ERROR, message: details });
        span.end();
      }
      context.with(spanContext, () => {
        const fields = {
          rpc: rpc.name,
          grpc_code: statusName(code),
          duration_ms: Math.round(seconds * 1e6) / 1e3,
          peer: call.getPeer(),
          ...(code === grpcStatus.OK ? {} : { details }),
        };
        if (quiet) logger.debug(fields, 'rpc handled');
        else if (isServerFault(code)) logger.warn(fields, 'rpc failed');
        else logger.info(fields, 'rpc handled');
      });
    };

    return new ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            if (!quiet) {
              const parent = propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
              span = trace.getTracer(TRACER_NAME).startSpan(
                rpc.name,
                {
                  kind: SpanKind.SERVER,
                  attributes: {
                    [ATTR_RPC_SYSTEM]: RPC_SYSTEM_GRPC,
                    [ATTR_RPC_SERVICE]: rpc.service,
                    [ATTR_RPC_METHOD]: rpc.method,
                    ...peerAttributes(call.getPeer()),
                  },
                },
                parent,
              );
              spanContext = trace.setSpan(parent, span);
            }
            context.with(spanContext, () => nextMetadata(metadata));
          },
          onReceiveMessage: (message, nextMessage) =>
            context.with(spanContext, () => nextMessage(message)),
          onReceiveHalfClose: (nextHalfClose) => context.with(spanContext, nextHalfClose),
          // grpc-js reports every end of a call here, after a status too; only a call that ends
          // without one was cancelled by the client or ran past its deadline.
          onCancel: () => {
            const pastDeadline = Number(call.getDeadline()) <= Date.now();
            finish(
              pastDeadline ? grpcStatus.DEADLINE_EXCEEDED : grpcStatus.CANCELLED,
              pastDeadline ? 'deadline exceeded' : 'cancelled by the client',
            );
          },
        }),
      sendStatus: (status, nextStatus) => {
        finish(status.code, status.details);
        nextStatus(status);
      },
    });
  };
}

function peerAttributes(peer: string): Record<string, string | number> {
  const address = parseHostPort(peer);
  if (!address) return {};
  return address.port === undefined
    ? { [ATTR_NETWORK_PEER_ADDRESS]: address.host }
    : { [ATTR_NETWORK_PEER_ADDRESS]: address.host, [ATTR_NETWORK_PEER_PORT]: address.port };
}
