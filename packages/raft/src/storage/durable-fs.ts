// File system operations made durable: every fsync goes through here, so that it can be switched
// off for tests that say so and measured for metrics.

import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { StorageFile, StorageFs } from './storage-fs.js';
import { TEMP_SUFFIX } from './wal-format.js';

/**
 * What an fsync made durable: a WAL segment's data, a directory entry, a snapshot file, or the
 * small file naming the cluster the data belongs to.
 */
export type FsyncTarget = 'segment' | 'directory' | 'snapshot' | 'meta';

export interface FsyncObserver {
  (target: FsyncTarget, seconds: number): void;
}

/**
 * A durability bug planted on purpose, so that the power-loss tests can show they catch it:
 * 'skip-append-datasync' acknowledges batches appended to an existing segment without their
 * fdatasync; 'skip-rename-directory-fsync' creates segment and snapshot files without the
 * directory fsync that makes their rename durable. Only tests set one.
 */
export type PlantedStorageBug = 'skip-append-datasync' | 'skip-rename-directory-fsync';

export class DurableFs {
  constructor(
    readonly dir: string,
    readonly files: StorageFs,
    private readonly fsyncEnabled: boolean,
    private readonly observe: FsyncObserver,
    private readonly plantedBug: PlantedStorageBug | undefined,
  ) {}

  /**
   * Makes written data durable. fdatasync suffices for segments: it also flushes the file size,
   * which is all the metadata an append changes.
   */
  async syncData(handle: StorageFile, target: FsyncTarget): Promise<void> {
    if (!this.fsyncEnabled) return;
    const started = performance.now();
    await handle.datasync();
    this.observe(target, (performance.now() - started) / 1000);
  }

  /** syncData for a batch appended to the tail segment. */
  async syncAppend(handle: StorageFile): Promise<void> {
    if (this.plantedBug === 'skip-append-datasync') return;
    await this.syncData(handle, 'segment');
  }

  /** Makes a directory's entries (created, renamed files) durable: by default the storage's. */
  async syncDirectory(path = this.dir): Promise<void> {
    if (!this.fsyncEnabled) return;
    const started = performance.now();
    await this.files.syncDirectory(path);
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
  ): Promise<StorageFile> {
    const path = join(this.dir, name);
    const temp = path + TEMP_SUFFIX;
    const handle = await this.files.open(temp, 'w+');
    try {
      await writeFully(handle, contents, 0);
      await this.syncData(handle, target);
      await this.files.rename(temp, path);
      if (this.plantedBug !== 'skip-rename-directory-fsync') await this.syncDirectory();
      return handle;
    } catch (error) {
      await handle.close();
      throw error;
    }
  }
}

/** Writes all of `buffers` at `position`, however many calls the kernel needs. */
export async function writeFully(
  handle: StorageFile,
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
