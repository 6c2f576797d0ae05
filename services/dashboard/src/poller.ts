// One source of the dashboard, asked on its own timer: a source that is down (or slow) holds up
// no other. Its status says whether the last poll worked, and if not, the error it ended with.
import type { SourceStatus } from './dashboard-snapshot.js';

export class Poller<T> {
  readonly #source: string;
  readonly #everyMs: number;
  readonly #poll: () => Promise<T>;
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #value: T | undefined;
  #status: SourceStatus;

  /** `poll` bounds its own time (a deadline or a timeout); a slow poll skips the next ticks. */
  constructor(source: string, everyMs: number, poll: () => Promise<T>) {
    this.#source = source;
    this.#everyMs = everyMs;
    this.#poll = poll;
    this.#status = { source, up: false, reason: 'not asked yet' };
  }

  start(): void {
    this.#tick();
    this.#timer = setInterval(() => this.#tick(), this.#everyMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inFlight;
  }

  /** The last poll's answer; undefined while the source is down. */
  get value(): T | undefined {
    return this.#value;
  }

  get status(): SourceStatus {
    return this.#status;
  }

  #tick(): void {
    if (this.#inFlight) return;
    this.#inFlight = this.#poll().then(
      (value) => {
        this.#value = value;
        this.#status = { source: this.#source, up: true, checkedAtMs: Date.now() };
      },
      (error: unknown) => {
        this.#value = undefined;
        this.#status = {
          source: this.#source,
          up: false,
          reason: reasonOf(error),
          checkedAtMs: Date.now(),
        };
      },
    );
    void this.#inFlight.finally(() => (this.#inFlight = undefined));
  }
}

/**
 * The most telling line of an error: fetch hides the socket's error in `cause` ("fetch failed"
 * says nothing); gRPC puts the code first (`14 UNAVAILABLE: ...`), which stays.
 */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause;
  const message = cause instanceof Error && cause.message ? cause.message : error.message;
  // grpc-js appends an empty "Resolution note:" and repeats "Error: " inside its message.
  const line = (message.split('\n')[0] ?? message)
    .replace(/\.?\s*Resolution note:\s*$/, '')
    .replace('Last error: Error: ', 'Last error: ');
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
