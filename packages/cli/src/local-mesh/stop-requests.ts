import type { CliIo, SignalSource } from '../cli-io.js';

/** The signals that ask a running mesh to stop: Ctrl-C, `catmesh down` / kill, a closed terminal. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Requests to stop the mesh. The first one aborts `signal` (a graceful stop starts); every one
 * after it calls the `onInsist` listeners (whoever presses Ctrl-C again has stopped waiting).
 * With `io.signals` (the real process) the signals are listened to directly, which also keeps a
 * second Ctrl-C from killing the runner before it has killed its instances; a test that passes
 * only `io.signal` gets the first request from it.
 */
export class StopRequests {
  readonly #controller = new AbortController();
  readonly #insisted: (() => void)[] = [];
  readonly #signals: SignalSource | undefined;
  readonly #onSignal = (signal: NodeJS.Signals): void => this.#request(signal);
  readonly #onAbort = (): void => this.#request('SIGINT');
  readonly #cliSignal: AbortSignal | undefined;
  #reason: string | undefined;

  constructor(io: Pick<CliIo, 'signal' | 'signals'>) {
    this.#signals = io.signals;
    if (io.signals) {
      for (const signal of STOP_SIGNALS) io.signals.on(signal, this.#onSignal);
    } else {
      this.#cliSignal = io.signal;
      if (io.signal?.aborted) this.#request('SIGINT');
      io.signal?.addEventListener('abort', this.#onAbort);
    }
  }

  /** Aborted by the first request. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** What asked first (`SIGINT`), once something has. */
  get reason(): string | undefined {
    return this.#reason;
  }

  onInsist(listener: () => void): void {
    this.#insisted.push(listener);
  }

  dispose(): void {
    for (const signal of STOP_SIGNALS) this.#signals?.off(signal, this.#onSignal);
    this.#cliSignal?.removeEventListener('abort', this.#onAbort);
  }

  #request(reason: string): void {
    if (this.#reason === undefined) {
      this.#reason = reason;
      this.#controller.abort();
      return;
    }
    for (const listener of this.#insisted) listener();
  }
}
