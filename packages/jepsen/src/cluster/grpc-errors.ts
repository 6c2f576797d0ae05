import { status, type ServiceError } from '@grpc/grpc-js';

// What a gRPC error tells about whether a request reached the server.

export function grpcCode(error: unknown): status | undefined {
  const code = (error as Partial<ServiceError> | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

/**
 * The call was refused before anything was sent: grpc-js fails a call fast (UNAVAILABLE, "No
 * connection established") when the channel has no connection, e.g. to a member killed with -9.
 * A call cut off after it was sent says something else ("Connection dropped", a reset).
 */
export function neverSent(error: unknown): boolean {
  return (
    grpcCode(error) === status.UNAVAILABLE &&
    /No connection established/.test((error as Error).message)
  );
}

/** `CODE: details` for histories and logs. */
export function describeError(error: unknown): string {
  // grpc-js writes `14 UNAVAILABLE: details`; the number says nothing more than the name.
  const message = error instanceof Error ? error.message : String(error);
  return grpcCode(error) === undefined ? message : message.replace(/^\d+ /, '');
}

/** A unary call as a promise; the deadline is relative. */
export function unary<T>(
  call: (deadline: Date, callback: (error: ServiceError | null, value?: T) => void) => unknown,
  timeoutMs: number,
): Promise<T> {
  return new Promise((resolve, reject) => {
    call(new Date(Date.now() + timeoutMs), (error, value) => {
      if (error) reject(error);
      else resolve(value as T);
    });
  });
}

/**
 * Channel options for a cluster whose members die and come back: grpc-js backs off reconnects
 * up to two minutes by default, which would keep a client away from a restarted member.
 */
export const reconnectQuickly = {
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
} as const;
