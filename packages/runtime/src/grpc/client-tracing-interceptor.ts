import { InterceptingCall, status as grpcStatus, type Interceptor } from '@grpc/grpc-js';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import { metadataSetter } from './metadata-carrier.js';
import {
  ATTR_RPC_GRPC_STATUS_CODE,
  ATTR_RPC_METHOD,
  ATTR_RPC_SERVICE,
  ATTR_RPC_SYSTEM,
  RPC_SYSTEM_GRPC,
} from './rpc-attributes.js';
import { describeRpc } from './rpc-method.js';
import { parseHostPort } from './target-address.js';
import { TRACER_NAME } from './tracer-name.js';

/**
 * A CLIENT span per call to `target` (the address the client was created with), child of the
 * span active where the call was made, with its W3C context injected into the request metadata
 * so the server's span continues the trace. Any status but OK marks the span as an error.
 * Responses are delivered back in the caller's context, so a callback keeps the caller's trace.
 * With `spanActiveBelow`, the interceptors below it send messages inside the span's context, so
 * that they can add events to it (the traffic gate does).
 */
export function clientTracingInterceptor(target: string, spanActiveBelow = false): Interceptor {
  const server = parseHostPort(target);
  const serverAttributes = server
    ? {
        [ATTR_SERVER_ADDRESS]: server.host,
        ...(server.port === undefined ? {} : { [ATTR_SERVER_PORT]: server.port }),
      }
    : {};
  return (options, nextCall) => {
    const rpc = describeRpc(options.method_definition);
    const callerContext = context.active();
    let spanContext = callerContext;
    return new InterceptingCall(nextCall(options), {
      ...(spanActiveBelow && {
        sendMessage: (message, next) => context.with(spanContext, () => next(message)),
      }),
      start: (metadata, _listener, next) => {
        const span = trace.getTracer(TRACER_NAME).startSpan(
          rpc.name,
          {
            kind: SpanKind.CLIENT,
            attributes: {
              [ATTR_RPC_SYSTEM]: RPC_SYSTEM_GRPC,
              [ATTR_RPC_SERVICE]: rpc.service,
              [ATTR_RPC_METHOD]: rpc.method,
              ...serverAttributes,
            },
          },
          callerContext,
        );
        spanContext = trace.setSpan(callerContext, span);
        propagation.inject(spanContext, metadata, metadataSetter);
        next(metadata, {
          onReceiveMetadata: (received, nextMetadata) =>
            context.with(callerContext, () => nextMetadata(received)),
          onReceiveMessage: (message, nextMessage) =>
            context.with(callerContext, () => nextMessage(message)),
          onReceiveStatus: (status, nextStatus) => {
            span.setAttribute(ATTR_RPC_GRPC_STATUS_CODE, status.code);
            if (status.code !== grpcStatus.OK) {
              span.setStatus({ code: SpanStatusCode.ERROR, message: status.details });
            }
            span.end();
            context.with(callerContext, () => nextStatus(status));
          },
        });
      },
    });
  };
}
