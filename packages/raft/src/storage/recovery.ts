// Opening a storage directory: replay the WAL segments, cut a torn tail, load the snapshot the
// WAL names, and remove what a crash or an interrupted compaction left behind.

import { dirname, join } from 'node:path';
import type { DurableFs } from './durable-fs.js';
import { StorageCorruptionError } from './errors.js';
import { LogWindow } from './log-window.js';
import { scanSegment } from './segment-scan.js';
import type { RawRecord } from './wal-format.js';
import {
  decodeEntry,
  decodeHardState,
  decodeSnapshotMarker,
  parseSegmentFileName,
  parseSnapshotFileName,
  RecordType,
  SEGMENT_HEADER_SIZE,
  segmentFileName,
  snapshotFileName,
  TEMP_SUFFIX,
} from './wal-format.js';
import { decodeSnapshotFile } from './snapshot-file.js';
import type { StorageFile } from './storage-fs.js';
import type { Entry, HardState, Snapshot } from '../core/types.js';

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: 0, commit: 0 };

/** What the caller last saw durable: the state to restart the Raft core from. */
export interface StoredState {
  readonly hardState: HardState;
  /** The latest snapshot, if one was ever saved. */
  readonly snapshot?: Snapshot;
  /** The log after the snapshot (or from index 1 without one), consecutive indexes. */
  readonly entries: readonly Entry[];
}

/** A batch cut off by a crash while it was being written; it was never acknowledged. */
export interface TornTailNotice {
  readonly file: string;
  /** The file was truncated to this length. */
  readonly offset: number;
  readonly droppedBytes: number;
  readonly reason: string;
}

export interface RecoveryReport {
  readonly tornTail?: TornTailNotice;
  /** Files removed: temporaries, unreferenced snapshots, segments of an interrupted compaction. */
  readonly removedFiles: readonly string[];
}

export interface SegmentInfo {
  readonly seq: number;
  readonly file: string;
  /** The log's last index when the segment was created. */
  readonly prevIndex: number;
}

export interface Recovered {
  readonly state: StoredState;
  readonly report: RecoveryReport;
  /** Live segments, oldest first; the last one is appended to. */
  readonly segments: readonly SegmentInfo[];
  /** The last segment, opened for writing, and its size (after any torn tail was cut). */
  readonly tail?: { readonly handle: StorageFile; readonly size: number };
  readonly nextSegmentSeq: number;
  readonly nextBatch: number;
}

export async function recover(fs: DurableFs): Promise<Recovered> {
  const { dir, files } = fs;
  // Each directory mkdir created is an entry in its parent, to be made durable like a file's.
  const created = await files.mkdirs(dir);
  for (
    let made = dir;
    created !== undefined && made.length >= created.length;
    made = dirname(made)
  ) {
    await fs.syncDirectory(dirname(made));
  }
  const removedFiles: string[] = [];
  const remove = async (name: string): Promise<void> => {
    await files.unlink(join(dir, name));
    removedFiles.push(join(dir, name));
  };

  const names = await files.readdir(dir);
  const segmentSeqs: number[] = [];
  const snapshotIndexes: number[] = [];
  for (const name of names) {
    const base = name.endsWith(TEMP_SUFFIX) ? name.slice(0, -TEMP_SUFFIX.length) : undefined;
    if (base !== undefined) {
      if (parseSegmentFileName(base) !== undefined || parseSnapshotFileName(base) !== undefined) {
        await remove(name); // a file whose creation a crash interrupted: never acknowledged
      }
      continue;
    }
    const seq = parseSegmentFileName(name);
    if (seq !== undefined) segmentSeqs.push(seq);
    const index = parseSnapshotFileName(name);
    if (index !== undefined) snapshotIndexes.push(index);
  }
  segmentSeqs.sort((a, b) => a - b);

  // Compaction deletes the oldest segments first; if a crash left older segments behind a gap,
  // the live log starts after the gap (and the replay below checks that nothing it needs is lost).
  let runStart = segmentSeqs.length - 1;
  while (runStart > 0 && segmentSeqs[runStart - 1] === segmentSeqs[runStart]! - 1) runStart -= 1;
  const staleSeqs = segmentSeqs.slice(0, Math.max(runStart, 0));
  const segments: SegmentInfo[] = segmentSeqs.slice(Math.max(runStart, 0)).map((seq) => ({
    seq,
    file: join(dir, segmentFileName(seq)),
    prevIndex: 0,
  }));

  const replay = new Replay();
  let tornTail: TornTailNotice | undefined;
  let tailSize = 0;
  let nextBatch = 1;
  for (const [i, segment] of segments.entries()) {
    const buf = await files.readFile(segment.file);
    const isLast = i === segments.length - 1;
    const scan = scanSegment(segment.file, buf, isLast);
    const { header } = scan;
    if (header.seq !== segment.seq) {
      throw new StorageCorruptionError(segment.file, 8, `header says segment ${header.seq}`);
    }
    if (i === 0) {
      replay.start(header.prevIndex);
    } else if (header.prevIndex !== replay.log.lastIndex || header.firstBatch !== nextBatch) {
      throw new StorageCorruptionError(
        segment.file,
        16,
        `segment does not continue the previous one (log ends at ${replay.log.lastIndex}, ` +
          `next batch ${nextBatch}; header says ${header.prevIndex}, ${header.firstBatch})`,
      );
    }
    segments[i] = { ...segment, prevIndex: header.prevIndex };
    for (const record of scan.records) replay.apply(segment.file, record);
    nextBatch = scan.lastBatch + 1;
    tailSize = scan.validEnd;
    if (scan.tornTail) {
      tornTail = {
        file: segment.file,
        offset: scan.tornTail.offset,
        droppedBytes: buf.length - scan.tornTail.offset,
        reason: `${scan.tornTail.reason} at byte ${scan.tornTail.damageAt}`,
      };
    }
  }

  const first = segments[0];
  if (first && replay.log.base !== replay.snapshotIndex) {
    throw new StorageCorruptionError(
      first.file,
      0,
      `the log from ${replay.snapshotIndex + 1} to ${replay.log.base} is missing ` +
        `(older segments were removed before a snapshot covered them)`,
    );
  }

  let snapshot: Snapshot | undefined;
  if (replay.snapshotIndex > 0) {
    const file = join(dir, snapshotFileName(replay.snapshotIndex));
    let buf: Buffer;
    try {
      buf = await files.readFile(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      throw new StorageCorruptionError(file, 0, 'the snapshot the WAL refers to is missing');
    }
    snapshot = decodeSnapshotFile(file, buf);
    const { index, term } = snapshot.metadata;
    if (index !== replay.snapshotIndex || term !== replay.snapshotTerm) {
      throw new StorageCorruptionError(
        file,
        16,
        `snapshot is ${index}/${term}, the WAL expects ${replay.snapshotIndex}/${replay.snapshotTerm}`,
      );
    }
  }

  // Everything checked out: now it is safe to change files.
  for (const seq of staleSeqs) await remove(segmentFileName(seq));
  for (const index of snapshotIndexes) {
    // Newer ones were written by a save that crashed before its WAL batch; older ones superseded.
    if (index !== replay.snapshotIndex) await remove(snapshotFileName(index));
  }
  let tail: Recovered['tail'];
  let nextSegmentSeq = (segmentSeqs.at(-1) ?? 0) + 1;
  if (tornTail && tailSize === SEGMENT_HEADER_SIZE) {
    // No intact batch is left, so neither is the hard state and snapshot marker every segment
    // begins with: drop the file. The next write starts a fresh segment in its place (with the
    // same number, so the run of segments stays contiguous); the one before stays as it is.
    nextSegmentSeq = segments.pop()!.seq;
    await remove(segmentFileName(nextSegmentSeq));
  } else if (segments.length > 0) {
    const handle = await files.open(segments.at(-1)!.file, 'r+');
    try {
      if (tornTail) {
        await handle.truncate(tailSize);
        await fs.syncData(handle, 'segment');
      }
    } catch (error) {
      await handle.close();
      throw error;
    }
    tail = { handle, size: tailSize };
  }

  return {
    state: {
      hardState: replay.hardState,
      ...(snapshot ? { snapshot } : {}),
      entries: replay.log.values(),
    },
    report: { ...(tornTail ? { tornTail } : {}), removedFiles },
    segments,
    ...(tail ? { tail } : {}),
    nextSegmentSeq,
    nextBatch,
  };
}

/** Applies WAL records in order, as the writer applied them when it wrote them. */
class Replay {
  log = new LogWindow<Entry>(0);
  hardState: HardState = EMPTY_HARD_STATE;
  snapshotIndex = 0;
  snapshotTerm = 0;

  start(prevIndex: number): void {
    this.log = new LogWindow<Entry>(prevIndex);
  }

  apply(file: string, record: RawRecord): void {
    const fail = (detail: string): never => {
      throw new StorageCorruptionError(file, record.offset, detail);
    };
    switch (record.type) {
      case RecordType.entry: {
        const entry = decodeEntry(record.payload);
        if (typeof entry === 'string') return fail(entry);
        if (entry.index <= this.snapshotIndex) fail(`entry ${entry.index} is in the snapshot`);
        if (entry.index > this.log.lastIndex + 1) {
          fail(`entry ${entry.index} leaves a gap after ${this.log.lastIndex}`);
        }
        this.log.append(entry.index, entry);
        return;
      }
      case RecordType.hardState: {
        const state = decodeHardState(record.payload);
        if (typeof state === 'string') return fail(state);
        this.hardState = state;
        return;
      }
      case RecordType.snapshot: {
        const marker = decodeSnapshotMarker(record.payload);
        if (typeof marker === 'string') return fail(marker);
        if (marker.index < this.snapshotIndex) {
          fail(`snapshot ${marker.index} is older than snapshot ${this.snapshotIndex}`);
        }
        this.snapshotIndex = marker.index;
        this.snapshotTerm = marker.term;
        if (marker.retainsLog) this.log.dropThrough(marker.index);
        else this.log.reset(marker.index);
        return;
      }
    }
  }
}
