import {
  Metadata,
  type CallOptions,
  type Client,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';

/** The callback form of a unary method on a ts-proto client (its last overload). */
type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: Metadata,
  options: Partial<CallOptions>,
  callback: (error: ServiceError | null, response: Res) => void,
) => ClientUnaryCall;

/** The unary methods of client `C`; streaming methods return streams, not ClientUnaryCall. */
export type UnaryMethodName<C> = {
  [K in keyof C]-?: C[K] extends UnaryMethod<never, unknown>
    ? C[K] extends (...args: never[]) => infer R
      ? ClientUnaryCall extends R
        ? K
        : never
      : never
    : never;
}[keyof C] &
  string;

export type UnaryRequest<C, K extends keyof C> =
  C[K] extends UnaryMethod<infer Req, unknown> ? Req : never;
export type UnaryResponse<C, K extends keyof C> =
  C[K] extends UnaryMethod<never, infer Res> ? Res : never;

export interface UnaryCallOptions {
  readonly metadata?: Metadata;
  /** Overrides the client's default deadline for this call. */
  readonly deadlineMs?: number;
  /** Cancels the call (status CANCELLED) when aborted. */
  readonly signal?: AbortSignal;
}

/**
 * Calls a unary method of a ts-proto client and returns a promise of the response; it rejects
 * with the grpc-js ServiceError (`code`, `details`, `metadata`) when the call fails.
 * `await callUnary(inventory, 'getStock', { sku })`.
 */
export function callUnary<C extends Client, K extends UnaryMethodName<C>>(
  client: C,
  method: K,
  request: UnaryRequest<C, K>,
  options: UnaryCallOptions = {},
): Promise<UnaryResponse<C, K>> {
  const { signal } = options;
  if (signal?.aborted) {
    return Promise.reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
  }
  const invoke = client[method] as unknown as UnaryMethod<UnaryRequest<C, K>, UnaryResponse<C, K>>;
  const callOptions: Partial<CallOptions> =
    options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
  return new Promise((resolve, reject) => {
    const cancel = () => call.cancel();
    const call = invoke.call(
      client,
      request,
      options.metadata ?? new Metadata(),
      callOptions,
      (error, response) => {
        signal?.removeEventListener('abort', cancel);
        if (error) reject(error);
        else resolve(response);
      },
    );
    signal?.addEventListener('abort', cancel, { once: true });
  });
}
