import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import {
  callUnary,
  createClient,
  createMetricsRegistry,
  envTypes,
  type ClientKitOptions,
  type UnaryMethodName,
  type UnaryRequest,
  type UnaryResponse,
} from '@catmesh/runtime';
import {
  InterruptedError,
  isServiceError,
  NoEndpointAvailableError,
  oneLine,
  statusName,
} from '../cli-errors.js';
import type { CliIo } from '../cli-io.js';
import type { GlobalOptions } from '../global-options.js';

/** Pause after a round in which every endpoint was unavailable, doubling up to the maximum. */
const FIRST_ROUND_PAUSE_MS = 100;
const MAX_ROUND_PAUSE_MS = 1000;
/** The least time an attempt gets when the timeout is shared between endpoints. */
const MIN_ATTEMPT_MS = 250;

type KvClient = catfeederV1.CatFeederServiceClient;
type AdminClient = catfeederV1.CatFeederAdminServiceClient;

/** One try of a request at one endpoint, which must answer within `deadlineMs`. */
export type Attempt<T> = (address: string, deadlineMs: number) => Promise<T>;

export interface FailoverOptions {
  /**
   * The request may be sent again after an attempt ran out of time with it in flight: reads,
   * and writes carrying a request id (the store applies one request id once). Such attempts
   * get a share of the timeout each, so that one replica holding the request (a minority
   * waiting for a leader, a partitioned address) does not use it all; the others get all the
   * time left, and time running out with the request in flight ends the command.
   */
  readonly resendable: boolean;
  /** Index in `addresses` of the endpoint to try first; 0 unless given. */
  readonly startAt?: number;
}

/**
 * The cat-feeder replicas the command was given, with one client each. Any replica serves any
 * request (followers forward to the leader), so a request goes to the first endpoint that can
 * take it: UNAVAILABLE (unreachable, shutting down, an election) moves on to the next, in
 * order, round after round until the timeout. Any other answer is the answer.
 */
export class ReplicaEndpoints {
  readonly #kv = new Map<string, KvClient>();
  readonly #admin = new Map<string, AdminClient>();
  readonly #clientOptions: ClientKitOptions<never>;

  constructor(
    readonly addresses: readonly string[],
    readonly timeoutMs: number,
    readonly signal?: AbortSignal,
  ) {
    // No `idempotent` methods: the kit would retry each endpoint on its own before
    // `call` could move on to the next one.
    this.#clientOptions = { registry: createMetricsRegistry(), defaultDeadlineMs: timeoutMs };
  }

  kv(address: string): KvClient {
    return clientFor(this.#kv, address, () =>
      createClient(catfeederV1.CatFeederServiceClient, address, this.#clientOptions),
    );
  }

  admin(address: string): AdminClient {
    return clientFor(this.#admin, address, () =>
      createClient(catfeederV1.CatFeederAdminServiceClient, address, this.#clientOptions),
    );
  }

  /**
   * Runs `attempt` on the endpoints in turn until one succeeds or answers something other
   * than UNAVAILABLE. Rejects with the answer (a grpc-js ServiceError), NoEndpointAvailableError
   * when the timeout ran out, or InterruptedError on Ctrl-C.
   */
  async call<T>(
    attempt: Attempt<T>,
    options: FailoverOptions,
  ): Promise<{ readonly value: T; readonly address: string }> {
    const deadline = Date.now() + this.timeoutMs;
    const failures = new Map<string, string>();
    let pauseMs = FIRST_ROUND_PAUSE_MS;
    const start = options.startAt ?? 0;
    for (;;) {
      for (let i = 0; i < this.addresses.length; i += 1) {
        const address = this.addresses[(start + i) % this.addresses.length]!;
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw this.#unavailable(failures);
        this.#checkInterrupted();
        const deadlineMs = options.resendable ? this.#attemptMs(remaining) : remaining;
        try {
          return { value: await attempt(address, deadlineMs), address };
        } catch (error) {
          this.#checkInterrupted();
          if (!isServiceError(error)) throw error;
          if (error.code === status.DEADLINE_EXCEEDED && !options.resendable) {
            throw new NoEndpointAvailableError(
              status.DEADLINE_EXCEEDED,
              `no answer from ${address} within ${envTypes.formatDuration(this.timeoutMs)}; the request may or may not have been applied`,
            );
          }
          if (error.code !== status.UNAVAILABLE && error.code !== status.DEADLINE_EXCEEDED) {
            throw error;
          }
          // An attempt cut short by the end of the timeout says less than what this endpoint
          // answered before (a leader hint, a refused connection): keep that.
          const cutShort = error.code === status.DEADLINE_EXCEEDED && deadlineMs === remaining;
          if (!(cutShort && failures.has(address))) {
            failures.set(address, `${statusName(error.code)}: ${oneLine(error.details)}`);
          }
        }
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.#unavailable(failures);
      try {
        await sleep(Math.min(pauseMs, remaining), undefined, { signal: this.signal });
      } catch {
        throw new InterruptedError();
      }
      pauseMs = Math.min(pauseMs * 2, MAX_ROUND_PAUSE_MS);
    }
  }

  /** Calls a unary method of CatFeederService with failover (see `call`). */
  kvCall<K extends UnaryMethodName<KvClient>>(
    method: K,
    request: UnaryRequest<KvClient, K>,
    options: FailoverOptions,
  ): Promise<{ readonly value: UnaryResponse<KvClient, K>; readonly address: string }> {
    return this.call(
      (address, deadlineMs) =>
        callUnary(this.kv(address), method, request, { deadlineMs, signal: this.signal }),
      options,
    );
  }

  /** Calls a unary method of CatFeederAdminService with failover (see `call`). */
  adminCall<K extends UnaryMethodName<AdminClient>>(
    method: K,
    request: UnaryRequest<AdminClient, K>,
    options: FailoverOptions,
  ): Promise<{ readonly value: UnaryResponse<AdminClient, K>; readonly address: string }> {
    return this.call(
      (address, deadlineMs) =>
        callUnary(this.admin(address), method, request, { deadlineMs, signal: this.signal }),
      options,
    );
  }

  close(): void {
    for (const client of [...this.#kv.values(), ...this.#admin.values()]) client.close();
  }

  /** All the time left for one endpoint; with several, a share so the others get a turn. */
  #attemptMs(remaining: number): number {
    if (this.addresses.length === 1) return remaining;
    const share = Math.ceil(this.timeoutMs / this.addresses.length);
    return Math.min(remaining, Math.max(MIN_ATTEMPT_MS, share));
  }

  #checkInterrupted(): void {
    if (this.signal?.aborted) throw new InterruptedError();
  }

  #unavailable(failures: ReadonlyMap<string, string>): NoEndpointAvailableError {
    const why = [...failures].map(([address, failure]) => `${address}: ${failure}`).join('; ');
    return new NoEndpointAvailableError(
      status.UNAVAILABLE,
      `no endpoint could serve the request within ${envTypes.formatDuration(this.timeoutMs)}${why ? ` (${why})` : ''}`,
    );
  }
}

/** Runs `use` with the endpoints the global options name, and closes their clients after. */
export async function withReplicaEndpoints<T>(
  globals: GlobalOptions,
  io: CliIo,
  use: (endpoints: ReplicaEndpoints) => Promise<T>,
): Promise<T> {
  const endpoints = new ReplicaEndpoints(globals.endpoints, globals.timeoutMs, io.signal);
  try {
    return await use(endpoints);
  } finally {
    endpoints.close();
  }
}

function clientFor<C>(clients: Map<string, C>, address: string, create: () => C): C {
  let client = clients.get(address);
  if (client === undefined) {
    client = create();
    clients.set(address, client);
  }
  return client;
}
