import type { OutputStream } from '../cli-io.js';

/** What `catmesh up` shows while the mesh starts: one step per instance, and a few more. */
export interface StartProgress {
  /** A step begins (an instance was started, or a wait began). */
  begin(step: string, doing: string): void;
  succeed(step: string, result: string): void;
  fail(step: string, why: string): void;
  /** Stops redrawing; anything printed after this goes below the steps. */
  end(): void;
}

export function createStartProgress(stream: OutputStream, steps: readonly string[]): StartProgress {
  return stream.isTTY ? new TerminalProgress(stream, steps) : new LineProgress(stream, steps);
}

function label(step: string, width: number): string {
  return step.padEnd(width);
}

/** Not a terminal (a pipe, a file, CI): one plain line per event, nothing redrawn. */
class LineProgress implements StartProgress {
  readonly #width: number;

  constructor(
    private readonly stream: OutputStream,
    steps: readonly string[],
  ) {
    this.#width = Math.max(0, ...steps.map((step) => step.length));
  }

  begin(step: string, doing: string): void {
    this.stream.write(`  ${label(step, this.#width)}  ${doing}\n`);
  }

  succeed(step: string, result: string): void {
    this.stream.write(`  ${label(step, this.#width)}  ${result}\n`);
  }

  fail(step: string, why: string): void {
    this.stream.write(`  ${label(step, this.#width)}  FAILED: ${why}\n`);
  }

  end(): void {}
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 80;
const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';

type StepState =
  | { readonly kind: 'waiting' }
  | { readonly kind: 'running'; readonly doing: string; readonly since: number }
  | { readonly kind: 'done'; readonly text: string }
  | { readonly kind: 'failed'; readonly text: string };

/** A terminal: a line per step, redrawn in place, a spinner on the ones under way. */
class TerminalProgress implements StartProgress {
  readonly #states = new Map<string, StepState>();
  readonly #width: number;
  readonly #timer: NodeJS.Timeout;
  #frame = 0;
  #drawn = 0;

  constructor(
    private readonly stream: OutputStream,
    steps: readonly string[],
  ) {
    this.#width = Math.max(0, ...steps.map((step) => step.length));
    for (const step of steps) this.#states.set(step, { kind: 'waiting' });
    this.#timer = setInterval(() => this.#draw(), FRAME_MS);
    this.#draw();
  }

  begin(step: string, doing: string): void {
    this.#states.set(step, { kind: 'running', doing, since: Date.now() });
    this.#draw();
  }

  succeed(step: string, result: string): void {
    this.#states.set(step, { kind: 'done', text: result });
    this.#draw();
  }

  fail(step: string, why: string): void {
    this.#states.set(step, { kind: 'failed', text: why });
    this.#draw();
  }

  end(): void {
    clearInterval(this.#timer);
    this.#draw();
  }

  #draw(): void {
    this.#frame = (this.#frame + 1) % SPINNER.length;
    const lines = [...this.#states].map(([step, state]) => {
      const name = label(step, this.#width);
      switch (state.kind) {
        case 'waiting':
          return `${DIM}  · ${name}  waiting${RESET}`;
        case 'running': {
          const seconds = ((Date.now() - state.since) / 1000).toFixed(1);
          return `  ${SPINNER[this.#frame]} ${name}  ${state.doing} ${DIM}${seconds}s${RESET}`;
        }
        case 'done':
          return `  ${GREEN}✔${RESET} ${name}  ${state.text}`;
        case 'failed':
          return `  ${RED}✘${RESET} ${name}  ${RED}${state.text}${RESET}`;
      }
    });
    // Back to the first line drawn, then each line cleared and written again.
    const up = this.#drawn > 0 ? `\x1b[${this.#drawn}A` : '';
    this.stream.write(`${up}${lines.map((line) => `\r\x1b[2K${line}\n`).join('')}`);
    this.#drawn = lines.length;
  }
}
