import { open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseLogLine, type LogLine } from './log-line.js';
import { lastLines } from './log-tail.js';

/** An instance's log file. */
export interface NamedLog {
  readonly name: string;
  readonly path: string;
}

export interface NamedLine {
  readonly name: string;
  readonly line: LogLine;
}

const FOLLOW_POLL_MS = 200;

/** A log's size now, 0 while it does not exist: where reading stops and following starts. */
export async function logSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
}

/**
 * The lines of several logs up to the given sizes (the last `tail` lines of each, or all), merged
 * into one sequence by time. The merge is stable: a log's own order is kept, and a line that
 * carries no time (a stack trace's tail) stays after the line before it.
 */
export async function readMergedLogs(
  logs: readonly (NamedLog & { readonly size: number })[],
  tail: number | undefined,
): Promise<NamedLine[]> {
  const perLog = await Promise.all(
    logs.map(async ({ name, path, size }) => {
      const lines = await lastLines(path, tail ?? Number.MAX_SAFE_INTEGER, size);
      let time = Number.NEGATIVE_INFINITY;
      return lines.map((raw) => {
        const line = parseLogLine(raw);
        time = line.time ?? time;
        return { name, line, time };
      });
    }),
  );
  // Array.prototype.sort is stable.
  const merged = perLog.flat().sort((a, b) => a.time - b.time);
  return merged.map(({ name, line }) => ({ name, line }));
}

/**
 * Calls `onLine` for every line appended to the logs from the given offsets on, until `signal`
 * aborts. Polls (fs.watch misses appends on some filesystems); a log that shrank was truncated
 * or replaced, and is read again from its start.
 */
export async function followLogs(
  logs: readonly (NamedLog & { readonly size: number })[],
  onLine: (line: NamedLine) => void,
  signal: AbortSignal | undefined,
): Promise<void> {
  // The bytes after a log's last newline wait for the rest of their line (and character).
  const positions = logs.map((log) => ({ ...log, offset: log.size, partial: Buffer.alloc(0) }));
  while (!signal?.aborted) {
    for (const position of positions) {
      const size = await logSize(position.path);
      if (size < position.offset) {
        position.offset = 0;
        position.partial = Buffer.alloc(0);
      }
      if (size === position.offset) continue;
      const handle = await open(position.path, 'r');
      try {
        const chunk = Buffer.alloc(size - position.offset);
        await handle.read(chunk, 0, chunk.length, position.offset);
        position.offset = size;
        const bytes = Buffer.concat([position.partial, chunk]);
        const end = bytes.lastIndexOf(10) + 1;
        position.partial = bytes.subarray(end);
        for (const raw of bytes.subarray(0, end).toString('utf8').split('\n').slice(0, -1)) {
          onLine({ name: position.name, line: parseLogLine(raw) });
        }
      } finally {
        await handle.close();
      }
    }
    await sleep(FOLLOW_POLL_MS, undefined, { signal }).catch(() => undefined);
  }
}
