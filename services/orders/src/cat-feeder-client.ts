// Writes `cat.state` on the cat-feeder cluster. Any replica takes writes (followers forward them
// to the leader), so the client keeps to one that answers and moves on to the next when it does
// not. Every write carries a request id derived from what caused it, so a retry (another
// attempt, another endpoint, another orders replica, a redelivered message) applies once.
import { status, type ServiceError } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { callUnary, createClient, type Registry, type TrafficHooks } from '@catmesh/runtime';

export const CAT_STATE_KEY = 'cat.state';
const FULL = Buffer.from('full');
const HUNGRY = Buffer.from('hungry');

/**
 * UNAVAILABLE: that replica cannot take the call. DEADLINE_EXCEEDED too: a replica cut off from
 * its leader (a partition) holds the call until the deadline rather than refuse it.
 */
const TRY_NEXT: ReadonlySet<number> = new Set([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]);

export interface CatFeederClientOptions {
  readonly endpoints: readonly string[];
  readonly registry: Registry;
  readonly deadlineMs?: number;
  /** This process's identity and traffic gate (the `app` fault mechanism). */
  readonly traffic?: TrafficHooks;
}

export class CatFeederClient {
  readonly #clients: catfeederV1.CatFeederServiceClient[];
  readonly #deadlineMs: number;
  /** The endpoint that answered last; calls start there. */
  #preferred = 0;

  constructor(options: CatFeederClientOptions) {
    if (options.endpoints.length === 0) throw new Error('CatFeederClient: no endpoints');
    this.#deadlineMs = options.deadlineMs ?? 5_000;
    this.#clients = options.endpoints.map((address) =>
      createClient(catfeederV1.CatFeederServiceClient, address, {
        registry: options.registry,
        idempotent: ['get', 'put', 'compareAndSwap'],
        defaultDeadlineMs: this.#deadlineMs,
        ...(options.traffic && { traffic: options.traffic }),
      }),
    );
  }

  /** Writes `cat.state = full` for `orderId`; returns the revision the write made. */
  async feed(orderId: string): Promise<number> {
    const response = await this.#call((client) =>
      callUnary(client, 'put', {
        key: CAT_STATE_KEY,
        value: FULL,
        requestId: { clientId: `orders/feed/${orderId}`, sequence: 1 },
      }),
    );
    if (!response.kv) throw new Error('cat-feeder answered a put without the key written');
    return response.kv.modRevision;
  }

  /**
   * `cat.state = hungry`, only if `cat.state` is still the write made at `fedRevision`: a newer
   * feeding is never undone. Returns whether it swapped.
   */
  async makeHungry(fedRevision: number): Promise<boolean> {
    const response = await this.#call((client) =>
      callUnary(client, 'compareAndSwap', {
        key: CAT_STATE_KEY,
        expected: { $case: 'expectedModRevision', value: fedRevision },
        newValue: HUNGRY,
        requestId: { clientId: `orders/hunger/${fedRevision}`, sequence: 1 },
      }),
    );
    return response.succeeded;
  }

  close(): void {
    for (const client of this.#clients) client.close();
  }

  async #call<T>(call: (client: catfeederV1.CatFeederServiceClient) => Promise<T>): Promise<T> {
    let lastError: unknown;
    for (let tried = 0; tried < this.#clients.length; tried++) {
      const index = (this.#preferred + tried) % this.#clients.length;
      try {
        const answer = await call(this.#clients[index]!);
        this.#preferred = index;
        return answer;
      } catch (error) {
        if (!TRY_NEXT.has((error as ServiceError).code)) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }
}
