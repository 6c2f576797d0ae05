import { Readable } from 'node:stream';
import { runCli } from '../../src/index.js';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutBytes: Buffer;
}

export interface RunOptions {
  readonly env?: Record<string, string>;
  readonly stdin?: Buffer | string;
  readonly signal?: AbortSignal;
}

/** A run of `catmesh` in progress: its output so far, and its end. */
export interface RunningCli {
  stdout(): string;
  stderr(): string;
  readonly result: Promise<CliRun>;
}

/** Starts `catmesh args...` in-process with captured output. */
export function startCatmesh(args: readonly string[], options: RunOptions = {}): RunningCli {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const result = runCli(args, {
    stdout: { write: (chunk: string | Uint8Array) => out.push(Buffer.from(chunk)) },
    stderr: { write: (chunk: string | Uint8Array) => err.push(Buffer.from(chunk)) },
    stdin: options.stdin === undefined ? undefined : Readable.from([Buffer.from(options.stdin)]),
    env: options.env ?? {},
    signal: options.signal,
  }).then((code) => {
    const stdoutBytes = Buffer.concat(out);
    return {
      code,
      stdout: stdoutBytes.toString(),
      stderr: Buffer.concat(err).toString(),
      stdoutBytes,
    };
  });
  return {
    stdout: () => Buffer.concat(out).toString(),
    stderr: () => Buffer.concat(err).toString(),
    result,
  };
}

/** Runs `catmesh args...` in-process to its end. */
export function catmesh(args: readonly string[], options: RunOptions = {}): Promise<CliRun> {
  return startCatmesh(args, options).result;
}

/** The JSON objects of `--json` output, one per line. */
export function jsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
