// Keys to reconcile, as client-go's workqueue hands them out: a key queued while it is waiting
// is queued once, a key is never worked on by two workers at once (a change that arrives
// meanwhile runs it again afterwards), and a retry waits a back-off that doubles per failure.

export interface WorkQueueOptions {
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

export class WorkQueue {
  readonly #pending = new Set<string>();
  readonly #active = new Set<string>();
  readonly #again = new Set<string>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #failures = new Map<string, number>();
  #stopped = false;

  constructor(
    private readonly work: (key: string) => Promise<void>,
    private readonly onError: (key: string, error: unknown) => void,
    private readonly options: WorkQueueOptions = {},
  ) {}

  add(key: string): void {
    if (this.#stopped) return;
    if (this.#active.has(key)) {
      this.#again.add(key);
      return;
    }
    if (this.#pending.has(key)) return;
    this.#pending.add(key);
    queueMicrotask(() => void this.#run(key));
  }

  /** Queues the key after `ms` (a deadline to check, a retry). */
  addAfter(key: string, ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timers.get(key));
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        this.add(key);
      }, ms),
    );
  }

  /** Whether a key is queued, waiting for its time, or being worked on. */
  get idle(): boolean {
    return this.#pending.size === 0 && this.#active.size === 0 && this.#timers.size === 0;
  }

  stop(): void {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
  }

  async #run(key: string): Promise<void> {
    this.#pending.delete(key);
    if (this.#stopped) return;
    this.#active.add(key);
    try {
      await this.work(key);
      this.#failures.delete(key);
    } catch (error) {
      this.onError(key, error);
      const failures = (this.#failures.get(key) ?? 0) + 1;
      this.#failures.set(key, failures);
      const initial = this.options.initialBackoffMs ?? 500;
      this.addAfter(
        key,
        Math.min(initial * 2 ** (failures - 1), this.options.maxBackoffMs ?? 30_000),
      );
    } finally {
      this.#active.delete(key);
      if (this.#again.delete(key)) this.add(key);
    }
  }
}
