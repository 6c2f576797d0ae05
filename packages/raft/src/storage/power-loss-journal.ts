// Power loss for real processes, without FUSE: a StorageFs that keeps an undo journal of every
// change not yet made durable, and rollBackUnsynced(), which undoes those changes on disk after
// the process was killed with SIGKILL. Together they leave the directory as a machine that lost
// power would (the LazyFS model): file data written since the file's last fdatasync is gone, and
// so is every create, rename and unlink whose directory was not fsynced since.
//
// The journal is written synchronously before each change is made, and never fsynced: a SIGKILL
// keeps the page cache, and each record is enough to undo its change whether or not the change
// itself happened. Files are known by inode, so that a datasync after a restart also covers what
// the killed process wrote (as the page cache would); an inode cannot be reused while the journal
// still refers to it, because unlinked files are kept as hard links until that is durable. A
// process restarted after a plain kill goes on with the same journal; once nothing is outstanding
// the journal is emptied, so it stays as small as the unsynced state. Test use only: cat-feeder
// uses it when CATMESH_TEST_MODE=1 and CATMESH_TEST_POWER_LOSS_JOURNAL names the journal, and the
// harness rolls back (power loss) or not (kill -9) before it restarts the process.

import {
  existsSync,
  ftruncateSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { StorageFile, StorageFs } from './storage-fs.js';
import { nodeStorageFs } from './storage-fs.js';

const JOURNAL_FILE = 'undo.jsonl';
/** Hard links keeping the files that unlink and rename-over would free, until that is durable. */
const SAVED_DIR = 'saved';

type UndoRecord =
  /** A file or directory that did not exist. */
  | { readonly op: 'create'; readonly path: string }
  /** Bytes overwritten (base64, only the part inside the old size) and the size before. */
  | {
      readonly op: 'write';
      readonly ino: number;
      readonly path: string;
      readonly at: number;
      readonly old: string;
      readonly size: number;
    }
  | { readonly op: 'rename'; readonly from: string; readonly to: string; readonly saved?: string }
  | { readonly op: 'unlink'; readonly path: string; readonly saved: string }
  | { readonly op: 'datasync'; readonly ino: number }
  | { readonly op: 'dirsync'; readonly path: string };

/** The journaled changes not yet durable, oldest first, as records arrive in order. */
class Outstanding {
  private readonly changes: { readonly record: UndoRecord; readonly dirs: Set<string> }[] = [];

  get empty(): boolean {
    return this.changes.length === 0;
  }

  add(record: UndoRecord): void {
    switch (record.op) {
      case 'datasync':
        this.drop((c) => c.record.op === 'write' && c.record.ino === record.ino);
        return;
      case 'dirsync':
        for (const c of this.changes) c.dirs.delete(record.path);
        this.drop((c) => c.record.op !== 'write' && c.dirs.size === 0);
        return;
      case 'write':
        this.changes.push({ record, dirs: new Set() });
        return;
      case 'create':
      case 'unlink':
        this.changes.push({ record, dirs: new Set([dirname(record.path)]) });
        return;
      case 'rename':
        this.changes.push({ record, dirs: new Set([dirname(record.from), dirname(record.to)]) });
        return;
    }
  }

  /** Newest first: the order to undo them in. */
  newestFirst(): UndoRecord[] {
    return this.changes.map((c) => c.record).reverse();
  }

  private drop(durable: (c: Outstanding['changes'][number]) => boolean): void {
    for (let i = this.changes.length - 1; i >= 0; i--) {
      if (durable(this.changes[i]!)) this.changes.splice(i, 1);
    }
  }
}

function parseJournal(text: string): UndoRecord[] {
  // A line cut short by the kill was written before its change, so the change never happened.
  return text
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as UndoRecord);
}

export class PowerLossJournalFs implements StorageFs {
  private readonly fd: number;
  private readonly outstanding = new Outstanding();
  private readonly openFiles = new Set<JournaledFile>();
  private nextSaved: number;

  /**
   * Journals into `journalDir` (created if missing). A journal already there is the one of a
   * process killed without power loss: its changes are still not durable, so it goes on.
   */
  constructor(private readonly journalDir: string) {
    mkdirSync(join(journalDir, SAVED_DIR), { recursive: true });
    const path = join(journalDir, JOURNAL_FILE);
    const earlier = existsSync(path) ? parseJournal(readFileSync(path, 'utf8')) : [];
    for (const record of earlier) this.outstanding.add(record);
    this.nextSaved = earlier.length + 1;
    this.fd = openSync(path, 'a');
  }

  async open(path: string, flags: 'w+' | 'r+'): Promise<StorageFile> {
    const full = resolve(path);
    if (flags === 'w+') {
      if (existsSync(full)) await this.recordOverwrite(full, 0, (await stat(full)).size);
      else this.record({ op: 'create', path: full });
    }
    const handle = await nodeStorageFs.open(full, flags);
    const file = new JournaledFile(this, handle, full, statSync(full).ino);
    this.openFiles.add(file);
    return file;
  }

  async syncDirectory(path: string): Promise<void> {
    await nodeStorageFs.syncDirectory(path);
    this.record({ op: 'dirsync', path: resolve(path) });
  }

  async rename(from: string, to: string): Promise<void> {
    const source = resolve(from);
    const target = resolve(to);
    const saved = existsSync(target) ? this.save(target) : undefined;
    this.record({ op: 'rename', from: source, to: target, ...(saved ? { saved } : {}) });
    await nodeStorageFs.rename(source, target);
    for (const file of this.openFiles) if (file.path === source) file.path = target;
  }

  async unlink(path: string): Promise<void> {
    const full = resolve(path);
    this.record({ op: 'unlink', path: full, saved: this.save(full) });
    await nodeStorageFs.unlink(full);
  }

  async mkdirs(path: string): Promise<string | undefined> {
    const missing: string[] = [];
    for (let dir = resolve(path); !existsSync(dir); dir = dirname(dir)) missing.unshift(dir);
    for (const dir of missing) this.record({ op: 'create', path: dir });
    return nodeStorageFs.mkdirs(path);
  }

  readdir(path: string): Promise<string[]> {
    return nodeStorageFs.readdir(path);
  }

  readFile(path: string): Promise<Buffer> {
    return nodeStorageFs.readFile(path);
  }

  /** Journals what [at, at + length) of `path` holds now, and its size, before they change. */
  async recordOverwrite(path: string, at: number, length: number): Promise<void> {
    const { size, ino } = await stat(path);
    const keep = Math.max(0, Math.min(size, at + length) - at);
    const old = Buffer.alloc(keep);
    if (keep > 0) {
      const reader = await open(path, 'r');
      try {
        await reader.read(old, 0, keep, at);
      } finally {
        await reader.close();
      }
    }
    this.record({ op: 'write', ino, path, at, old: old.toString('base64'), size });
  }

  /** Appends `record` to the journal, synchronously, before the change it describes is made. */
  record(record: UndoRecord): void {
    writeSync(this.fd, JSON.stringify(record) + '\n');
    this.outstanding.add(record);
    if (!this.outstanding.empty) return;
    // Nothing left to undo: start the journal afresh (it is written at its end, O_APPEND).
    ftruncateSync(this.fd, 0);
    rmSync(join(this.journalDir, SAVED_DIR), { recursive: true, force: true });
    mkdirSync(join(this.journalDir, SAVED_DIR));
  }

  forget(file: JournaledFile): void {
    this.openFiles.delete(file);
  }

  /** A hard link to `path`, so that its contents can come back if the change is undone. */
  private save(path: string): string {
    const name = `${this.nextSaved++}`;
    linkSync(path, join(this.journalDir, SAVED_DIR, name));
    return name;
  }
}

class JournaledFile implements StorageFile {
  constructor(
    private readonly journal: PowerLossJournalFs,
    private readonly handle: StorageFile,
    public path: string,
    private readonly ino: number,
  ) {}

  async write(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
  ): Promise<{ bytesWritten: number }> {
    await this.journal.recordOverwrite(this.path, position, length);
    return this.handle.write(buffer, offset, length, position);
  }

  async datasync(): Promise<void> {
    await this.handle.datasync();
    this.journal.record({ op: 'datasync', ino: this.ino });
  }

  async truncate(length: number): Promise<void> {
    const { size } = await stat(this.path);
    await this.journal.recordOverwrite(
      this.path,
      Math.min(length, size),
      Math.max(0, size - length),
    );
    await this.handle.truncate(length);
  }

  async close(): Promise<void> {
    this.journal.forget(this);
    await this.handle.close();
  }
}

export interface RollBackReport {
  /** Changes undone, newest first, e.g. `write /data/wal-…:4096` or `rename a -> b`. */
  readonly undone: readonly string[];
}

/**
 * Undoes on disk every change journaled in `journalDir` that was not durable, as a power loss
 * would have, then empties the journal. Run it only while no process uses the files.
 */
export async function rollBackUnsynced(journalDir: string): Promise<RollBackReport> {
  const path = join(journalDir, JOURNAL_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { undone: [] };
    throw error;
  }
  const outstanding = new Outstanding();
  for (const record of parseJournal(text)) outstanding.add(record);
  const savedPath = (name: string): string => join(journalDir, SAVED_DIR, name);
  const undone: string[] = [];
  // Newest first, so that each change is undone in the state right after it was made. Only the
  // newest record can be of a change that never happened (the kill came in between): every undo
  // below leaves things as they are then.
  for (const r of outstanding.newestFirst()) {
    switch (r.op) {
      case 'write':
        if (!existsSync(r.path)) break;
        await restoreBytes(r.path, r.at, Buffer.from(r.old, 'base64'), r.size);
        undone.push(`write ${r.path}:${r.at}`);
        break;
      case 'create':
        await rm(r.path, { recursive: true, force: true });
        undone.push(`create ${r.path}`);
        break;
      case 'rename':
        if (!existsSync(r.from)) await rename(r.to, r.from);
        if (r.saved !== undefined) await rename(savedPath(r.saved), r.to);
        undone.push(`rename ${r.from} -> ${r.to}`);
        break;
      case 'unlink':
        if (!existsSync(r.path)) await rename(savedPath(r.saved), r.path);
        undone.push(`unlink ${r.path}`);
        break;
      case 'datasync':
      case 'dirsync':
        break;
    }
  }
  await rm(join(journalDir, SAVED_DIR), { recursive: true, force: true });
  await unlink(path);
  return { undone };
}

/** Puts `old` back at `at` and cuts the file back to `size`. */
async function restoreBytes(path: string, at: number, old: Buffer, size: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    if (old.length > 0) await handle.write(old, 0, old.length, at);
    if ((await handle.stat()).size > size) await handle.truncate(size);
  } finally {
    await handle.close();
  }
}
