import { InterceptingCall, type Interceptor } from '@grpc/grpc-js';

/**
 * Gives every unary call a deadline of `deadlineMs` unless the caller set one: a call without
 * a deadline waits forever on a server that never answers, which is how one stuck dependency
 * stalls a whole mesh. Streaming calls are left alone; they are often meant to stay open.
 */
export function defaultDeadlineInterceptor(deadlineMs: number): Interceptor {
  return (options, nextCall) => {
    const method = options.method_definition;
    const applies =
      options.deadline === undefined && !method.requestStream && !method.responseStream;
    return new InterceptingCall(
      nextCall(applies ? { ...options, deadline: Date.now() + deadlineMs } : options),
    );
  };
}
