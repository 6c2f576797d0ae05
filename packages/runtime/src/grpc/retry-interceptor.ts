import {
  InterceptingCall,
  Metadata,
  status as grpcStatus,
  type Deadline,
  type Interceptor,
  type InterceptorOptions,
  type NextCall,
  type StatusObject,
} from '@grpc/grpc-js';
import { context, type Context } from '@opentelemetry/api';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly backoffMultiplier: number;
  /** Status codes worth another attempt. */
  readonly retryableCodes: readonly grpcStatus[];
}

/**
 * UNAVAILABLE only: the server could not take the call (down, restarting, partitioned away).
 * RESOURCE_EXHAUSTED is left out because retrying an overloaded server makes it worse, and
 * ABORTED because it asks the caller to redo its read-modify-write, not to replay one request.
 */
export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 4,
  initialBackoffMs: 50,
  maxBackoffMs: 1000,
  backoffMultiplier: 2,
  retryableCodes: [grpcStatus.UNAVAILABLE],
};

/**
 * Retries unary calls to the methods in `idempotentPaths` (full paths, `/pkg.Service/Method`),
 * and no others: replaying a request that is not idempotent can apply it twice. Between attempts
 * it waits a random time up to the exponential backoff ("full jitter"), so clients that failed
 * together do not come back together. It never waits past the call's deadline: when the next
 * attempt could not start in time, the caller gets the last attempt's status at once.
 *
 * Each attempt goes through the interceptors after this one (tracing, metrics) as a call of its
 * own, so every attempt is a CLIENT span and a count in the client metrics: retries show.
 */
export function retryInterceptor(
  idempotentPaths: ReadonlySet<string>,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): Interceptor {
  return (options, nextCall) => {
    const method = options.method_definition;
    if (!idempotentPaths.has(method.path) || method.requestStream || method.responseStream) {
      return new InterceptingCall(nextCall(options));
    }
    return new InterceptingCall(
      new RetryingCall(options, nextCall, policy, random, context.active()),
    );
  };
}

type CallInterface = ReturnType<NextCall>;
type Listener = Parameters<CallInterface['start']>[1];
type MessageContext = Parameters<CallInterface['sendMessageWithContext']>[0];

/** One unary call made of up to `maxAttempts` attempts, one at a time. */
class RetryingCall implements CallInterface {
  readonly #options: InterceptorOptions;
  readonly #nextCall: NextCall;
  readonly #policy: RetryPolicy;
  readonly #random: () => number;
  /** The caller's context, where each attempt starts, wherever the retry timer fires from. */
  readonly #callerContext: Context;
  #metadata = new Metadata();
  #listener: Listener;
  #request: { readonly context: MessageContext; readonly message: unknown } | undefined;
  #halfClosed = false;
  #attempt: CallInterface | undefined;
  #attempts = 0;
  #timer: NodeJS.Timeout | undefined;
  #cancelled = false;
  #finished = false;

  constructor(
    options: InterceptorOptions,
    nextCall: NextCall,
    policy: RetryPolicy,
    random: () => number,
    callerContext: Context,
  ) {
    this.#options = options;
    this.#nextCall = nextCall;
    this.#policy = policy;
    this.#random = random;
    this.#callerContext = callerContext;
  }

  start(metadata: Metadata, listener?: Listener): void {
    this.#metadata = metadata;
    this.#listener = listener;
    this.#startAttempt();
  }

  sendMessageWithContext(messageContext: MessageContext, message: unknown): void {
    this.#request = { context: messageContext, message };
    this.#attempt?.sendMessageWithContext(messageContext, message);
  }

  sendMessage(message: unknown): void {
    this.sendMessageWithContext({}, message);
  }

  halfClose(): void {
    this.#halfClosed = true;
    this.#attempt?.halfClose();
  }

  startRead(): void {
    this.#attempt?.startRead();
  }

  cancelWithStatus(code: grpcStatus, details: string): void {
    this.#cancelled = true;
    if (this.#timer !== undefined) {
      // Between attempts: nothing is in flight to cancel, so the call ends here.
      clearTimeout(this.#timer);
      this.#timer = undefined;
      this.#finish({ code, details, metadata: new Metadata() }, undefined, null);
      return;
    }
    this.#attempt?.cancelWithStatus(code, details);
  }

  getPeer(): string {
    return this.#attempt?.getPeer() ?? '';
  }

  getAuthContext(): ReturnType<CallInterface['getAuthContext']> {
    return this.#attempt?.getAuthContext() ?? null;
  }

  #startAttempt(): void {
    this.#timer = undefined;
    this.#attempts += 1;
    const attempt = context.with(this.#callerContext, () => this.#nextCall(this.#options));
    this.#attempt = attempt;
    // Only the last attempt's response reaches the caller, so each attempt's is held back.
    let responseMetadata: Metadata | undefined;
    let response: unknown = null;
    attempt.start(this.#metadata.clone(), {
      onReceiveMetadata: (metadata) => {
        responseMetadata = metadata;
      },
      onReceiveMessage: (message) => {
        response = message;
      },
      onReceiveStatus: (status) => this.#attemptEnded(status, responseMetadata, response),
    });
    if (this.#request) attempt.sendMessageWithContext(this.#request.context, this.#request.message);
    if (this.#halfClosed) attempt.halfClose();
  }

  #attemptEnded(status: StatusObject, metadata: Metadata | undefined, response: unknown): void {
    const delayMs = this.#backoffMs();
    const retry =
      status.code !== grpcStatus.OK &&
      !this.#cancelled &&
      this.#policy.retryableCodes.includes(status.code) &&
      this.#attempts < this.#policy.maxAttempts &&
      Date.now() + delayMs < deadlineMs(this.#options.deadline);
    if (!retry) {
      this.#finish(status, metadata, response);
      return;
    }
    this.#timer = setTimeout(() => this.#startAttempt(), delayMs);
  }

  #backoffMs(): number {
    const { initialBackoffMs, maxBackoffMs, backoffMultiplier } = this.#policy;
    const ceiling = Math.min(
      maxBackoffMs,
      initialBackoffMs * backoffMultiplier ** (this.#attempts - 1),
    );
    return this.#random() * ceiling;
  }

  #finish(status: StatusObject, metadata: Metadata | undefined, response: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    if (metadata) this.#listener?.onReceiveMetadata?.(metadata);
    this.#listener?.onReceiveMessage?.(response);
    this.#listener?.onReceiveStatus?.(status);
  }
}

function deadlineMs(deadline: Deadline | undefined): number {
  if (deadline === undefined) return Infinity;
  return deadline instanceof Date ? deadline.getTime() : deadline;
}
