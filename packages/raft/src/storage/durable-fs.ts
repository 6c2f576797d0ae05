// File system operations made durable: every fsync goes through here, so that it can be switched
// off for tests that say so and measured for metrics.

import { open, rename } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { TEMP_SUFFIX } from './wal-format.js';

/**
 * What an fsync made durable: a WAL segment's data, a directory entry, a snapshot file, or the
 * small file naming the cluster the data belongs to.
 */
export type FsyncTarget = 'segment' | 'directory' | 'snapshot' | 'meta';

export interface FsyncObserver {
  (target: FsyncTarget, seconds: number): void;
}

export class DurableFs {
  constructor(
    readonly dir: string,
    private readonly fsyncEnabled: boolean,
    private readonly observe: FsyncObserver,
  ) {}

  /**
   * Makes written data durable. fdatasync suffices for segments: it also flushes the file size,
   * which is all the metadata an append changes.
   */
  async syncData(handle: FileHandle, target: FsyncTarget): Promise<void> {
    if (!this.fsyncEnabled) return;
    const started = performance.now();
    await handle.datasync();
    this.observe(target, (performance.now() - started) / 1000);
  }

  /** Makes a directory's entries (created, renamed files) durable: by default the storage's. */
  async syncDirectory(path = this.dir): Promise<void> {
    if (!this.fsyncEnabled) return;
    const started = performance.now();
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    this.observe('directory', (performance.now() - started) / 1000);
  }

  /**
   * Creates `name` with `contents` atomically: written to a temporary file, fsynced, renamed over
   * `name`, directory fsynced. After a crash `name` is either absent (or its old version) or
   * complete; leftover temporary files are removed on open.
   */
  async writeAtomically(
    name: string,
    contents: readonly Buffer[],
    target: FsyncTarget,
  ): Promise<FileHandle> {
    const path = join(this.dir, name);
    const temp = path + TEMP_SUFFIX;
    const handle = await open(temp, 'w+');
    try {
      await writeFully(handle, contents, 0);
      await this.syncData(handle, target);
      await rename(temp, path);
      await this.syncDirectory();
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
}

/** Writes all of `buffers` at `position`, however many calls the kernel needs. */
export async function writeFully(
  handle: FileHandle,
  buffers: readonly Buffer[],
  position: number,
): Promise<number> {
  let at = position;
  for (const buffer of buffers) {
    let done = 0;
    while (done < buffer.length) {
      const { bytesWritten } = await handle.write(buffer, done, buffer.length - done, at);
      done += bytesWritten;
      at += bytesWritten;
    }
  }
  return at - position;
}
