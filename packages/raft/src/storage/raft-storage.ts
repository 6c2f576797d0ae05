// Durable storage for one Raft replica: the write-ahead log (entries, hard state, snapshot
// markers) with group commit, snapshot files, and compaction.
//
// save() applies its request to an in-memory model of the log at once (so requests are checked,
// and ordered, in call order) and adds its records to the pending batch. One I/O task runs at a
// time: it takes the whole pending batch and writes it with one write and one fdatasync, so the
// saves that arrive while an fsync is in flight share the next one. A save resolves when the
// batch holding it is durable. The hard state is a WAL record too, so entries and the hard state
// that commits them are durable together, at the cost of one fsync.

import { join, resolve } from 'node:path';
import { checkClusterId, readClusterIdFile, writeClusterIdFile } from './cluster-id-file.js';
import type { FsyncObserver, PlantedStorageBug } from './durable-fs.js';
import { DurableFs, writeFully } from './durable-fs.js';
import { LogWindow } from './log-window.js';
import type { StoredState, Recovered, RecoveryReport, SegmentInfo } from './recovery.js';
import { EMPTY_HARD_STATE, recover } from './recovery.js';
import { encodeSnapshotFile } from './snapshot-file.js';
import type { StorageFile, StorageFs } from './storage-fs.js';
import { nodeStorageFs } from './storage-fs.js';
import {
  encodeSegmentHeader,
  MAX_PAYLOAD_SIZE,
  RecordBuffer,
  segmentFileName,
  snapshotFileName,
} from './wal-format.js';
import type { Entry, HardState, Snapshot } from '../core/types.js';

export const DEFAULT_WAL_SEGMENT_SIZE = 64 * 1024 * 1024;

export interface RaftStorageOptions {
  /**
   * fsync every batch, snapshot and directory change (default true). With false nothing is
   * durable across a machine crash: only for tests and benchmarks that say so.
   */
  readonly fsync?: boolean;
  /** Once the current segment reaches this many bytes, the next batch starts a new one. */
  readonly segmentSize?: number;
  /** Called after every fsync with what it synced and how long it took, e.g. for a histogram. */
  readonly onFsync?: FsyncObserver;
  /**
   * The file layer (default node:fs). Tests pass a PowerLossJournalFs to model power loss; the
   * storage's code path is the same either way.
   */
  readonly fs?: StorageFs;
  /** Only for the tests that prove the power-loss checks catch it; see PlantedStorageBug. */
  readonly plantedBug?: PlantedStorageBug;
}

/**
 * One Raft `Ready`'s worth of state to persist, always fsynced (also when the Ready does not
 * require it: telling a torn tail from corruption relies on each batch being durable before the
 * next is written). Entry data is copied when save() is called: buffers may be reused.
 */
export interface SaveRequest {
  readonly hardState?: HardState;
  /**
   * Entries with consecutive indexes. If the first one is at or below the last index, the
   * conflicting suffix from there is replaced (never a committed entry).
   */
  readonly entries?: readonly Entry[];
  /**
   * A newer snapshot. The entries up to its index are dropped; the ones after it are kept if the
   * log holds the snapshot's index with the snapshot's term (a snapshot of this replica's own
   * log), and dropped otherwise (a leader's snapshot replacing a log that diverged or is short).
   * It applies before `entries`, which then continue after it.
   */
  readonly snapshot?: Snapshot;
}

export interface StorageStats {
  /** save() calls made durable. */
  readonly saves: number;
  /** Group commits: each one write and one fdatasync of the WAL. */
  readonly batches: number;
  /** WAL records written. */
  readonly records: number;
  /** Bytes appended to WAL segments, headers included. */
  readonly bytes: number;
  /** fsync/fdatasync calls of any kind (segments, directories, snapshots), and their total time. */
  readonly fsyncs: number;
  readonly fsyncSeconds: number;
  /** Snapshot files written. */
  readonly snapshots: number;
  /** Segment files currently holding the log. */
  readonly segments: number;
}

export interface OpenedStorage {
  readonly storage: RaftStorage;
  /**
   * Every save that resolved before the last close or crash, plus possibly saves that were in
   * flight (each whole or not at all). Fits the core's RaftConfig.storage as it is.
   */
  readonly state: StoredState;
  /** What opening had to repair. A torn tail is normal after a crash; log it. */
  readonly recovery: RecoveryReport;
  /**
   * The cluster this data belongs to (saveClusterId); undefined for a new data dir or one
   * written before cluster ids existed.
   */
  readonly clusterId: string | undefined;
}

/** Log position and hard state, as of some point in the sequence of saves. */
interface LogSummary {
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly snapshotTerm: number;
  readonly hardState: HardState;
}

class Batch {
  readonly records = new RecordBuffer();
  /** The last hard state saved into this batch, written once at its end. */
  hardState: HardState | undefined;
  /** The newest snapshot saved into this batch: its file is written before the batch. */
  snapshot: Snapshot | undefined;
  saves = 0;
  readonly done: Promise<void>;
  resolve!: () => void;
  reject!: (error: unknown) => void;

  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }
}

interface Counters {
  saves: number;
  batches: number;
  records: number;
  bytes: number;
  fsyncs: number;
  fsyncSeconds: number;
  snapshots: number;
}

export class RaftStorage {
  /** Terms of the entries after the snapshot, as of the last save() call. */
  private readonly terms: LogWindow<number>;
  private snapshotIndex: number;
  private snapshotTerm: number;
  private hardState: HardState;
  /** As of the last durable batch. */
  private durable: LogSummary;

  private readonly segments: SegmentInfo[];
  private tail: { handle: StorageFile; size: number } | undefined;
  private nextSegmentSeq: number;
  private nextBatch: number;

  private pending: Batch | undefined;
  private flushScheduled = false;
  private ioQueue: Promise<void> = Promise.resolve();
  /** Set by the first failed write or fsync: after it nothing on disk is certain any more. */
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly fs: DurableFs,
    private readonly segmentSize: number,
    private readonly counters: Counters,
    recovered: Recovered,
  ) {
    const { state } = recovered;
    this.snapshotIndex = state.snapshot?.metadata.index ?? 0;
    this.snapshotTerm = state.snapshot?.metadata.term ?? 0;
    this.hardState = state.hardState;
    this.terms = new LogWindow<number>(this.snapshotIndex);
    for (const entry of state.entries) this.terms.append(entry.index, entry.term);
    this.durable = this.summary();
    this.segments = [...recovered.segments];
    this.tail = recovered.tail;
    this.nextSegmentSeq = recovered.nextSegmentSeq;
    this.nextBatch = recovered.nextBatch;
  }

  /**
   * Opens (or creates) the storage in `dir`, recovering what the last run made durable. Throws
   * StorageCorruptionError if data that was acknowledged is damaged.
   */
  static async open(dir: string, options: RaftStorageOptions = {}): Promise<OpenedStorage> {
    const segmentSize = options.segmentSize ?? DEFAULT_WAL_SEGMENT_SIZE;
    if (!Number.isSafeInteger(segmentSize) || segmentSize < 1) {
      throw new RangeError(`segmentSize must be a positive integer, got ${segmentSize}`);
    }
    const counters: Counters = {
      saves: 0,
      batches: 0,
      records: 0,
      bytes: 0,
      fsyncs: 0,
      fsyncSeconds: 0,
      snapshots: 0,
    };
    const fs = new DurableFs(
      resolve(dir),
      options.fs ?? nodeStorageFs,
      options.fsync ?? true,
      (target, seconds) => {
        counters.fsyncs += 1;
        counters.fsyncSeconds += seconds;
        try {
          options.onFsync?.(target, seconds);
        } catch (error) {
          // A broken metrics hook must not fail the saves whose data is already durable.
          process.emitWarning(`raft storage onFsync hook threw: ${String(error)}`);
        }
      },
      options.plantedBug,
    );
    const recovered = await recover(fs);
    const clusterId = await readClusterIdFile(fs.dir);
    const storage = new RaftStorage(fs, segmentSize, counters, recovered);
    return { storage, state: recovered.state, recovery: recovered.report, clusterId };
  }

  /**
   * Persists `request`; resolves once it is durable (with every save called before it). A
   * request that breaks the log's rules is rejected with a RangeError and changes nothing.
   */
  // async so that a rejected request rejects the promise rather than throwing; the body up to
  // the returned promise runs synchronously, so saves are still applied in call order.
  async save(request: SaveRequest): Promise<void> {
    this.checkOpen();
    return this.accept(request);
  }

  /**
   * Removes the segments holding only entries at or below `index`, which must be covered by a
   * saved snapshot. The entries after the snapshot are all kept whatever `index` is.
   */
  async compact(index: number): Promise<void> {
    this.checkOpen();
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`compact index must be a non-negative integer, got ${index}`);
    }
    if (index > this.snapshotIndex) {
      throw new RangeError(
        `cannot compact through ${index}: the snapshot only covers ${this.snapshotIndex}`,
      );
    }
    return this.enqueue(async () => {
      await this.flushPending();
      if (this.failure) throw this.failure;
      // Oldest first, so that a crash midway leaves a contiguous run of segments. The unlinks
      // are not fsynced: a segment that reappears after a crash is replayed (harmless, its
      // entries are all covered by the snapshot) or, behind a gap, removed on open.
      while (this.segments.length > 1 && this.segments[1]!.prevIndex <= index) {
        await this.fs.files.unlink(this.segments[0]!.file);
        this.segments.shift();
      }
    });
  }

  /** Records, durably, the cluster this data belongs to (read back by open() as `clusterId`). */
  async saveClusterId(id: string): Promise<void> {
    this.checkOpen();
    checkClusterId(id);
    return this.enqueue(() => writeClusterIdFile(this.fs, id));
  }

  stats(): StorageStats {
    return { ...this.counters, segments: this.segments.length };
  }

  /** Waits for the saves already called, then closes the files. Later saves are rejected. */
  close(): Promise<void> {
    this.closing ??= this.enqueue(async () => {
      await this.flushPending();
      await this.tail?.handle.close();
      this.tail = undefined;
    });
    return this.closing;
  }

  private checkOpen(): void {
    if (this.closing) throw new Error('raft storage is closed');
    if (this.failure) {
      throw new Error(`raft storage failed and must be reopened: ${this.failure.message}`, {
        cause: this.failure,
      });
    }
  }

  /** Checks `request` against the model, then applies it and queues its records. */
  private accept(request: SaveRequest): Promise<void> {
    const { hardState, snapshot } = request;
    const entries = request.entries ?? [];

    // Check everything first: a rejected request must leave the model untouched.
    let snapshotIndex = this.snapshotIndex;
    let snapshotTerm = this.snapshotTerm;
    let lastIndex = this.terms.lastIndex;
    let retainsLog = true;
    if (snapshot) {
      const { index, term } = snapshot.metadata;
      requireCount('snapshot index', index, 1);
      requireCount('snapshot term', term, 1);
      for (const id of [
        ...snapshot.metadata.confState.voters,
        ...snapshot.metadata.confState.learners,
      ]) {
        requireCount('snapshot node id', id, 1);
      }
      if (index <= snapshotIndex) {
        throw new RangeError(`snapshot ${index} is not newer than snapshot ${snapshotIndex}`);
      }
      retainsLog = this.terms.at(index) === term;
      if (!retainsLog && index < this.hardState.commit) {
        throw new RangeError(
          `snapshot ${index}/${term} does not match the log and would discard committed entries ` +
            `up to ${this.hardState.commit}`,
        );
      }
      snapshotIndex = index;
      snapshotTerm = term;
      if (!retainsLog) lastIndex = index;
    }
    if (entries.length > 0) {
      const first = entries[0]!.index;
      requireCount('entry index', first, 1);
      if (first <= snapshotIndex) {
        throw new RangeError(`entry ${first} is covered by snapshot ${snapshotIndex}`);
      }
      if (first > lastIndex + 1) {
        throw new RangeError(`entry ${first} would leave a gap after ${lastIndex}`);
      }
      if (first <= lastIndex && first <= this.hardState.commit) {
        throw new RangeError(`entry ${first} would overwrite a committed entry`);
      }
      let previousTerm =
        first - 1 === snapshotIndex ? snapshotTerm : (this.terms.at(first - 1) ?? 0);
      for (const [k, entry] of entries.entries()) {
        if (entry.index !== first + k) {
          throw new RangeError(`entries are not consecutive at ${entry.index}`);
        }
        requireCount('entry term', entry.term, 1);
        if (entry.term < previousTerm) {
          throw new RangeError(`entry ${entry.index} has term ${entry.term} < ${previousTerm}`);
        }
        if (entry.type !== 'normal' && entry.type !== 'conf-change') {
          throw new RangeError(`entry ${entry.index} has unknown type ${String(entry.type)}`);
        }
        if (!(entry.data instanceof Uint8Array) || entry.data.length > MAX_PAYLOAD_SIZE - 17) {
          throw new RangeError(`entry ${entry.index} data must be a Uint8Array under 4 GiB`);
        }
        previousTerm = entry.term;
      }
      lastIndex = first + entries.length - 1;
    }
    if (hardState) {
      requireCount('hard state term', hardState.term, 0);
      requireCount('hard state vote', hardState.vote, 0);
      requireCount('hard state commit', hardState.commit, 0);
      if (hardState.term < this.hardState.term) {
        throw new RangeError(`hard state term ${hardState.term} < ${this.hardState.term}`);
      }
      if (hardState.commit > lastIndex) {
        throw new RangeError(`hard state commit ${hardState.commit} > last index ${lastIndex}`);
      }
    }

    const batch = (this.pending ??= new Batch());
    if (snapshot) {
      if (retainsLog) this.terms.dropThrough(snapshotIndex);
      else this.terms.reset(snapshotIndex);
      this.snapshotIndex = snapshotIndex;
      this.snapshotTerm = snapshotTerm;
      batch.records.appendSnapshotMarker({ index: snapshotIndex, term: snapshotTerm, retainsLog });
      batch.snapshot = snapshot;
    }
    for (const entry of entries) {
      this.terms.append(entry.index, entry.term);
      batch.records.appendEntry(entry);
    }
    if (hardState && !sameHardState(hardState, this.hardState)) {
      this.hardState = { term: hardState.term, vote: hardState.vote, commit: hardState.commit };
      batch.hardState = this.hardState;
    }
    batch.saves += 1;

    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Deferred to the next turn of the event loop so that saves issued together (one tick's
      // worth) share the first batch too, not only the ones that arrive during an fsync.
      setImmediate(() => void this.enqueue(() => this.flushPending()));
    }
    return batch.done;
  }

  private summary(): LogSummary {
    return {
      lastIndex: this.terms.lastIndex,
      snapshotIndex: this.snapshotIndex,
      snapshotTerm: this.snapshotTerm,
      hardState: this.hardState,
    };
  }

  /** Runs `task` after every task queued before it; I/O on the files happens only in tasks. */
  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const result = this.ioQueue.then(task);
    this.ioQueue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Writes the pending batch, if any, and settles its saves. Never rejects. */
  private async flushPending(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.pending;
    this.pending = undefined;
    if (!batch) return;
    // No save can slip in between: the model now stands exactly at the end of this batch.
    const end = this.summary();
    try {
      if (this.failure) throw this.failure;
      await this.writeBatch(batch);
      this.durable = end;
      this.counters.saves += batch.saves;
      batch.resolve();
    } catch (error) {
      this.failure ??= error instanceof Error ? error : new Error(String(error));
      batch.reject(this.failure);
    }
  }

  private async writeBatch(batch: Batch): Promise<void> {
    const previousSnapshot = this.durable.snapshotIndex;
    if (batch.snapshot) {
      // The snapshot file must be durable before the WAL marker that refers to it.
      const handle = await this.fs.writeAtomically(
        snapshotFileName(batch.snapshot.metadata.index),
        encodeSnapshotFile(batch.snapshot),
        'snapshot',
      );
      await handle.close();
      this.counters.snapshots += 1;
    }
    if (batch.hardState) batch.records.appendHardState(batch.hardState);
    if (batch.records.records === 0) return; // only empty saves: nothing to make durable

    const number = this.nextBatch;
    const body = batch.records.seal(number);
    if (!this.tail || this.tail.size >= this.segmentSize) {
      await this.startSegment(number, body);
    } else {
      await writeFully(this.tail.handle, [body], this.tail.size);
      await this.fs.syncAppend(this.tail.handle);
      this.tail.size += body.length;
      this.counters.bytes += body.length;
    }
    this.nextBatch = number + 1;
    this.counters.batches += 1;
    this.counters.records += batch.records.records;

    if (batch.snapshot && previousSnapshot > 0) {
      // The new snapshot's marker is durable, so the old file is no longer referenced. Failing to
      // delete it is harmless (the next open removes it) and must not fail the saves.
      await this.fs.files
        .unlink(join(this.fs.dir, snapshotFileName(previousSnapshot)))
        .catch(() => undefined);
    }
  }

  /**
   * Writes `body` (batch `number`) as the start of a new segment. The segment begins with the
   * durable hard state and snapshot marker, so that older segments can be deleted by compaction
   * without losing them, and is created atomically (temporary file, fsync, rename).
   */
  private async startSegment(number: number, body: Buffer): Promise<void> {
    const seq = this.nextSegmentSeq;
    const { durable } = this;
    const header = encodeSegmentHeader({ seq, prevIndex: durable.lastIndex, firstBatch: number });
    const preamble = new RecordBuffer(128);
    if (durable.snapshotIndex > 0) {
      preamble.appendSnapshotMarker({
        index: durable.snapshotIndex,
        term: durable.snapshotTerm,
        retainsLog: true,
      });
    }
    if (!sameHardState(durable.hardState, EMPTY_HARD_STATE)) {
      preamble.appendHardState(durable.hardState);
    }
    const start = preamble.seal(number, false);
    const name = segmentFileName(seq);
    const handle = await this.fs.writeAtomically(name, [header, start, body], 'segment');
    const previous = this.tail;
    this.tail = { handle, size: header.length + start.length + body.length };
    this.segments.push({ seq, file: join(this.fs.dir, name), prevIndex: durable.lastIndex });
    this.nextSegmentSeq = seq + 1;
    this.counters.bytes += this.tail.size;
    this.counters.records += preamble.records;
    await previous?.handle.close();
  }
}

function requireCount(what: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(`${what} must be an integer >= ${min}, got ${value}`);
  }
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
