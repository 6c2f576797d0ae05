import { abortableSleep } from '../async/abortable-sleep.js';

// What the experiment's own traffic saw, one sample per operation: the raw material of every SLI
// in the report. Times are milliseconds since the run started (a monotonic clock).

export interface OperationSample {
  /** When the operation started. */
  readonly at: number;
  readonly latencyMs: number;
  readonly ok: boolean;
  /** Why it failed: `DEADLINE_EXCEEDED: ...`, `order FAILED: ...`. */
  readonly error?: string;
  /** The instance it was sent to. */
  readonly target?: string;
}

export class OperationLog {
  readonly #samples: OperationSample[] = [];

  constructor(
    /** The workload's key: `orders`, `catState`, `stock`, `register`. */
    readonly name: string,
    /** What a user calls it: `PlaceOrder`, `cat.state reads`. */
    readonly label: string,
  ) {}

  record(sample: OperationSample): void {
    this.#samples.push(sample);
  }

  get samples(): readonly OperationSample[] {
    return this.#samples;
  }
}

export type OperationOutcome =
  | { readonly ok: true; readonly target?: string }
  | { readonly ok: false; readonly error: string; readonly target?: string };

export interface OpenLoopOptions {
  readonly ratePerSecond: number;
  /** Calls in flight at most; past it an operation fails at once as the client's own overload. */
  readonly maxInFlight: number;
  readonly log: OperationLog;
  /** Milliseconds since the run started. */
  readonly clock: () => number;
  readonly signal: AbortSignal;
  /** The n-th operation (from 0). It reports its own failures; a throw is a failure too. */
  readonly operation: (n: number) => Promise<OperationOutcome>;
}

/**
 * Starts operations at a fixed rate whether or not earlier ones have answered (an open loop): a
 * closed loop would slow down with the system and hide exactly the latency a fault adds.
 * Resolves once stopped and every operation in flight has ended.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<void> {
  const { log, clock, signal } = options;
  const interval = 1000 / options.ratePerSecond;
  const inFlight = new Set<Promise<void>>();
  const first = clock();
  for (let n = 0; !signal.aborted; n++) {
    const due = first + n * interval;
    const wait = due - clock();
    if (wait > 0) await abortableSleep(wait, signal);
    if (signal.aborted) break;
    const at = clock();
    if (inFlight.size >= options.maxInFlight) {
      log.record({
        at,
        latencyMs: 0,
        ok: false,
        error: `client overloaded: ${inFlight.size} calls in flight`,
      });
      continue;
    }
    const done = options
      .operation(n)
      .catch((error: unknown): OperationOutcome => ({ ok: false, error: describeError(error) }))
      .then((outcome) => {
        log.record({
          at,
          latencyMs: clock() - at,
          ok: outcome.ok,
          ...(outcome.ok ? {} : { error: outcome.error }),
          ...(outcome.target !== undefined && { target: outcome.target }),
        });
      })
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  }
  await Promise.all(inFlight);
}

/** `DEADLINE_EXCEEDED: Deadline exceeded after 1.001s` for a grpc-js error, else the message. */
export function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | undefined)?.code;
  // grpc-js writes `4 DEADLINE_EXCEEDED: details`; the number says nothing more than the name.
  return typeof code === 'number' ? message.replace(/^\d+ /, '') : message;
}
