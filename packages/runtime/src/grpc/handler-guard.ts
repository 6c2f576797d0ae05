import {
  status as grpcStatus,
  type StatusObject,
  type UntypedHandleCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { MethodShape } from './rpc-method.js';

/** The status a failed handler answers with. */
type FailureStatus = Partial<StatusObject> & { code: number };

/** The surface of a streaming call the guard needs to fail it. */
interface FailableStream {
  readonly writableEnded: boolean;
  readonly destroyed: boolean;
  emit(event: 'error', error: FailureStatus): boolean;
}

type UnaryLike = (call: unknown, callback: sendUnaryData<unknown>) => unknown;
type StreamLike = (call: FailableStream) => unknown;

/**
 * Wraps a handler so that an error it throws or rejects with becomes the call's status: an
 * error carrying a numeric gRPC `code` is answered as is (that is how a handler says
 * INVALID_ARGUMENT), anything else is answered UNKNOWN and logged with its stack. Without this,
 * a rejected async handler would leave the call hanging and crash the process with an
 * unhandled rejection. A unary callback answers at most once.
 */
export function guardHandler(
  shape: MethodShape,
  handler: (...args: never[]) => unknown,
  logger: Logger,
): UntypedHandleCall {
  const fail = (error: unknown): FailureStatus => {
    if (isStatusError(error)) return { code: error.code, details: detailsOf(error) };
    const span = trace.getActiveSpan();
    if (error instanceof Error) span?.recordException(error);
    span?.setStatus({ code: SpanStatusCode.ERROR, message: describe(error) });
    logger.error({ err: error, rpc: shape.path }, 'rpc handler failed');
    return { code: grpcStatus.UNKNOWN, details: describe(error) };
  };

  if (!shape.responseStream) {
    const unary = handler as UnaryLike;
    const guarded: UnaryLike = (call, callback) => {
      let answered = false;
      const answerOnce: sendUnaryData<unknown> = (...args) => {
        if (answered) return;
        answered = true;
        callback(...args);
      };
      run(
        () => unary(call, answerOnce),
        (error) => answerOnce(fail(error)),
      );
    };
    return guarded as UntypedHandleCall;
  }

  const stream = handler as StreamLike;
  const guarded: StreamLike = (call) => {
    run(
      () => stream(call),
      (error) => {
        const status = fail(error);
        // grpc-js turns an 'error' event on a server stream into the call's status.
        if (!call.writableEnded && !call.destroyed) call.emit('error', status);
      },
    );
  };
  return guarded as UntypedHandleCall;
}

function run(invoke: () => unknown, onError: (error: unknown) => void): void {
  try {
    const result = invoke();
    if (result instanceof Promise) result.catch(onError);
  } catch (error) {
    onError(error);
  }
}

// Only code and details pass on: an error from a downstream call carries that call's trailers,
// which are not this server's to send.
function detailsOf(error: FailureStatus & { message?: unknown }): string {
  if (typeof error.details === 'string') return error.details;
  return typeof error.message === 'string' ? error.message : '';
}

function isStatusError(error: unknown): error is FailureStatus {
  return (
    typeof error === 'object' &&
    error !== null &&
    'code' in error &&
    typeof error.code === 'number' &&
    Number.isInteger(error.code)
  );
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
