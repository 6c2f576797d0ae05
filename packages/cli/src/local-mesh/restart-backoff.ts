/** The first restart of a crashed instance waits this long; each one after it twice as long. */
export const FIRST_RESTART_DELAY_MS = 250;
/** The longest wait between two restarts: a crash loop is slowed, never given up on. */
export const MAX_RESTART_DELAY_MS = 10_000;
/** An instance healthy this long after a restart has recovered: its next crash starts over. */
export const STABLE_AFTER_MS = 30_000;

/**
 * kubelet's CrashLoopBackOff with shorter numbers (kubelet: 10 s doubling to 5 min): the
 * delays of consecutive restarts of one instance, 250 ms, 500 ms, 1 s, ... up to 10 s.
 */
export class RestartBackoff {
  #failures = 0;

  /** The wait before the next restart; counts it as one more consecutive failure. */
  next(): number {
    const delay = Math.min(FIRST_RESTART_DELAY_MS * 2 ** this.#failures, MAX_RESTART_DELAY_MS);
    this.#failures += 1;
    return delay;
  }

  reset(): void {
    this.#failures = 0;
  }
}
