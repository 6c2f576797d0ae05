import { open } from 'node:fs/promises';

/** Bytes read from the end per step; most log lines are far shorter. */
const CHUNK = 64 * 1024;

/**
 * The last `count` lines of `file` (without their newlines) up to byte `end` (its size unless
 * given), reading backwards so that a long log costs no more than its tail. A missing file
 * has no lines.
 */
export async function lastLines(file: string, count: number, end?: number): Promise<string[]> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  try {
    let start = end ?? (await handle.stat()).size;
    // Bytes, not text, until the end: a chunk's edge may split a character.
    let tail = Buffer.alloc(0);
    // One more newline than lines wanted: the first line read may be cut.
    while (start > 0 && countNewlines(tail) <= count) {
      const length = Math.min(CHUNK, start);
      start -= length;
      const chunk = Buffer.alloc(length);
      await handle.read(chunk, 0, length, start);
      tail = Buffer.concat([chunk, tail]);
    }
    const lines = tail.toString('utf8').split('\n');
    if (lines.at(-1) === '') lines.pop();
    return lines.slice(-count);
  } finally {
    await handle.close();
  }
}

function countNewlines(bytes: Buffer): number {
  let newlines = 0;
  for (let index = bytes.indexOf(10); index !== -1; index = bytes.indexOf(10, index + 1)) {
    newlines += 1;
  }
  return newlines;
}
