/** Somewhere the CLI writes: the process's stdout or stderr, or a test's buffer. */
export interface OutputStream {
  write(chunk: string | Uint8Array): unknown;
  /** True for a terminal: progress is redrawn in place and logs are coloured. */
  readonly isTTY?: boolean;
}

/** Where a long-running command hears SIGINT, SIGTERM and SIGHUP: the process, or a test's emitter. */
export interface SignalSource {
  on(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
  off(signal: NodeJS.Signals, listener: (signal: NodeJS.Signals) => void): unknown;
}

/**
 * Everything a run of the CLI touches outside itself, passed in so that a test can run it
 * in-process with captured output and its own environment.
 */
export interface CliIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  /** Read by commands that take input from stdin (`kv put --stdin`). */
  readonly stdin?: AsyncIterable<Uint8Array | string>;
  /** The environment (`CATMESH_ENDPOINTS`): read from here, never from `process.env`. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on Ctrl-C: waits, retries and watches stop when it fires. */
  readonly signal?: AbortSignal;
  /**
   * The signals themselves, for `catmesh up`, which must hear every one: a second Ctrl-C kills
   * its instances at once rather than the runner alone, and SIGTERM (`catmesh down`) and SIGHUP
   * (a closed terminal) stop the mesh like Ctrl-C does.
   */
  readonly signals?: SignalSource;
}

/** Writes `value` as one line of JSON: `--json` output is one object per line. */
export function writeJsonLine(stream: OutputStream, value: unknown): void {
  stream.write(`${JSON.stringify(value)}\n`);
}
