// The file-system calls the storage makes, behind one small interface, so that a test can run
// the very same WAL and snapshot code on a file layer that models power loss
// (power-loss-journal.ts). Production passes nothing and gets node:fs.

import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';

/** An open file: the calls the storage makes on one (node's FileHandle has them all). */
export interface StorageFile {
  write(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

export interface StorageFs {
  /** 'w+' creates or empties the file; 'r+' opens an existing one. */
  open(path: string, flags: 'w+' | 'r+'): Promise<StorageFile>;
  /** fsync of a directory: makes the creates, renames and unlinks in it durable. */
  syncDirectory(path: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Creates `path` and its missing parents; returns the first directory created, if any. */
  mkdirs(path: string): Promise<string | undefined>;
  readdir(path: string): Promise<string[]>;
  readFile(path: string): Promise<Buffer>;
}

export const nodeStorageFs: StorageFs = {
  open: (path, flags) => open(path, flags),
  async syncDirectory(path) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  },
  rename: (from, to) => rename(from, to),
  unlink: (path) => unlink(path),
  mkdirs: (path) => mkdir(path, { recursive: true }),
  readdir: (path) => readdir(path),
  readFile: (path) => readFile(path),
};
