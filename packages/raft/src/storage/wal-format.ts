// The on-disk format of the write-ahead log. All integers are little-endian; u64 values are
// JavaScript safe integers (< 2^53), anything larger on disk is treated as damage.
//
// A segment file `<seq, 20 decimal digits>.wal` starts with a 40-byte header:
//
//   0  u32 magic            8  u64 segment seq     24 u64 first batch in this segment
//   4  u8  version          16 u64 prev index      32 u32 CRC-32C of bytes [0, 32)
//   5  3 zero bytes                                36 u32 zero
//
// `prev index` is the log's last index when the segment was created: replaying from this segment
// alone starts with nothing known up to that index (older segments may have been compacted away).
//
// Then records, each 8-byte aligned, with a 24-byte header:
//
//   0  u32 CRC-32C of bytes [4, end of padding)     9  u8  flags (bit 0: last record of its batch)
//   4  u32 payload length                           10 6 zero bytes
//   8  u8  record type                              16 u64 batch number
//
// followed by the payload and 0-7 zero bytes of padding. A batch is what one group commit wrote
// with one write and one fsync; batch numbers increase by one per batch, and a batch never spans
// two segments. Batch numbers are what tell a torn tail (damage confined to the last batch, which
// can't have been acknowledged) from corruption (damage followed by a later batch, which was
// written only after the damaged one was durable).

import { crc32c } from './crc32c.js';
import type { Entry, EntryType, HardState } from '../core/types.js';

export const SEGMENT_MAGIC = 0x4c41574d; // "MWAL" read as little-endian bytes
export const SEGMENT_VERSION = 1;
export const SEGMENT_HEADER_SIZE = 40;
export const RECORD_HEADER_SIZE = 24;
export const FLAG_LAST_IN_BATCH = 1;

export const RecordType = {
  entry: 1,
  hardState: 2,
  snapshot: 3,
} as const;
export type RecordType = (typeof RecordType)[keyof typeof RecordType];

const ENTRY_FIXED_SIZE = 17; // index u64, term u64, entry type u8
const HARD_STATE_SIZE = 24; // term u64, vote u64, commit u64
const SNAPSHOT_MARKER_SIZE = 17; // index u64, term u64, retains log u8

/** Payloads may not exceed this: the length field is a u32 and nothing legitimate comes close. */
export const MAX_PAYLOAD_SIZE = 0xffff_ffff - RECORD_HEADER_SIZE - 8;

const TWO_32 = 2 ** 32;

export function writeU64(buf: Buffer, offset: number, value: number): void {
  buf.writeUInt32LE(value % TWO_32, offset);
  buf.writeUInt32LE(Math.floor(value / TWO_32), offset + 4);
}

/** Reads a u64, or returns undefined when it isn't a safe integer. */
export function readU64(buf: Buffer, offset: number): number | undefined {
  const hi = buf.readUInt32LE(offset + 4);
  if (hi > 0x1f_ffff) return undefined;
  return hi * TWO_32 + buf.readUInt32LE(offset);
}

function pad8(n: number): number {
  return (n + 7) & ~7;
}

// --- file names -------------------------------------------------------------------------------

export const TEMP_SUFFIX = '.tmp';

export function segmentFileName(seq: number): string {
  return `${String(seq).padStart(20, '0')}.wal`;
}

export function parseSegmentFileName(name: string): number | undefined {
  const match = /^(\d{20})\.wal$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

export function snapshotFileName(index: number): string {
  return `snapshot-${String(index).padStart(20, '0')}.snap`;
}

export function parseSnapshotFileName(name: string): number | undefined {
  const match = /^snapshot-(\d{20})\.snap$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

// --- segment header ---------------------------------------------------------------------------

export interface SegmentHeader {
  readonly seq: number;
  readonly prevIndex: number;
  readonly firstBatch: number;
}

export function encodeSegmentHeader(header: SegmentHeader): Buffer {
  const buf = Buffer.alloc(SEGMENT_HEADER_SIZE);
  buf.writeUInt32LE(SEGMENT_MAGIC, 0);
  buf.writeUInt8(SEGMENT_VERSION, 4);
  writeU64(buf, 8, header.seq);
  writeU64(buf, 16, header.prevIndex);
  writeU64(buf, 24, header.firstBatch);
  buf.writeUInt32LE(crc32c(buf, 0, 0, 32), 32);
  return buf;
}

/** Decodes a segment header, or returns why it can't. */
export function decodeSegmentHeader(buf: Buffer): SegmentHeader | string {
  if (buf.length < SEGMENT_HEADER_SIZE) return 'file is shorter than a segment header';
  if (buf.readUInt32LE(0) !== SEGMENT_MAGIC) return 'not a WAL segment (bad magic)';
  if (buf.readUInt32LE(32) !== crc32c(buf, 0, 0, 32)) return 'segment header checksum mismatch';
  const version = buf.readUInt8(4);
  if (version !== SEGMENT_VERSION) return `unsupported segment version ${version}`;
  const seq = readU64(buf, 8);
  const prevIndex = readU64(buf, 16);
  const firstBatch = readU64(buf, 24);
  if (seq === undefined || prevIndex === undefined || firstBatch === undefined) {
    return 'segment header field out of range';
  }
  return { seq, prevIndex, firstBatch };
}

// --- records ----------------------------------------------------------------------------------

/** A snapshot marker: the log up to `index` is replaced by the snapshot with this index/term. */
export interface SnapshotMarker {
  readonly index: number;
  readonly term: number;
  /**
   * Whether the entries after `index` survive. Decided when the snapshot was saved (they survive
   * when the log held entry `index` with the snapshot's term) and recorded, so that replay never
   * needs entries that compaction may have removed to repeat the decision.
   */
  readonly retainsLog: boolean;
}

/**
 * Accumulates records for one batch. Headers are left blank until `seal`, which stamps the batch
 * number, marks the last record and computes checksums, so that the batch number can be chosen
 * when the batch is written rather than when each record is added.
 */
export class RecordBuffer {
  private buf: Buffer;
  private used = 0;
  private readonly offsets: number[] = [];

  constructor(initialSize = 4096) {
    this.buf = Buffer.alloc(initialSize);
  }

  get length(): number {
    return this.used;
  }

  get records(): number {
    return this.offsets.length;
  }

  appendEntry(entry: Entry): void {
    const at = this.reserve(RecordType.entry, ENTRY_FIXED_SIZE + entry.data.length);
    writeU64(this.buf, at, entry.index);
    writeU64(this.buf, at + 8, entry.term);
    this.buf.writeUInt8(entry.type === 'conf-change' ? 1 : 0, at + 16);
    this.buf.set(entry.data, at + ENTRY_FIXED_SIZE);
  }

  appendHardState(state: HardState): void {
    const at = this.reserve(RecordType.hardState, HARD_STATE_SIZE);
    writeU64(this.buf, at, state.term);
    writeU64(this.buf, at + 8, state.vote);
    writeU64(this.buf, at + 16, state.commit);
  }

  appendSnapshotMarker(marker: SnapshotMarker): void {
    const at = this.reserve(RecordType.snapshot, SNAPSHOT_MARKER_SIZE);
    writeU64(this.buf, at, marker.index);
    writeU64(this.buf, at + 8, marker.term);
    this.buf.writeUInt8(marker.retainsLog ? 1 : 0, at + 16);
  }

  /**
   * Finishes every header for batch `batch` and returns the bytes to write. `closesBatch: false`
   * leaves the last record unmarked, for records that more of the same batch will follow.
   */
  seal(batch: number, closesBatch = true): Buffer {
    for (const [i, at] of this.offsets.entries()) {
      const last = closesBatch && i === this.offsets.length - 1;
      this.buf.writeUInt8(last ? FLAG_LAST_IN_BATCH : 0, at + 9);
      writeU64(this.buf, at + 16, batch);
      const end = at + RECORD_HEADER_SIZE + pad8(this.buf.readUInt32LE(at + 4));
      this.buf.writeUInt32LE(crc32c(this.buf, 0, at + 4, end), at);
    }
    return this.buf.subarray(0, this.used);
  }

  /** Appends a blank header for a record and returns where its payload starts. */
  private reserve(type: RecordType, payloadLength: number): number {
    if (payloadLength > MAX_PAYLOAD_SIZE) {
      throw new RangeError(`WAL record payload of ${payloadLength} bytes is too large`);
    }
    const size = RECORD_HEADER_SIZE + pad8(payloadLength);
    if (this.used + size > this.buf.length) {
      const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.used + size));
      this.buf.copy(grown, 0, 0, this.used);
      this.buf = grown;
    }
    const at = this.used; // Buffer.alloc zero-filled the header and padding bytes
    this.buf.writeUInt32LE(payloadLength, at + 4);
    this.buf.writeUInt8(type, at + 8);
    this.offsets.push(at);
    this.used += size;
    return at + RECORD_HEADER_SIZE;
  }
}

export interface RawRecord {
  /** Where the record starts in its file. */
  readonly offset: number;
  readonly type: RecordType;
  readonly lastInBatch: boolean;
  readonly batch: number;
  readonly payload: Buffer;
  /** Offset just past this record's padding: where the next record starts. */
  readonly end: number;
}

/** Reads the record at `offset`, or returns why there is no intact record there. */
export function readRecord(buf: Buffer, offset: number): RawRecord | string {
  if (offset + RECORD_HEADER_SIZE > buf.length) return 'record header cut short by end of file';
  const length = buf.readUInt32LE(offset + 4);
  const type = buf.readUInt8(offset + 8);
  const flags = buf.readUInt8(offset + 9);
  if (type !== RecordType.entry && type !== RecordType.hardState && type !== RecordType.snapshot) {
    return `invalid record type ${type}`;
  }
  if ((flags & ~FLAG_LAST_IN_BATCH) !== 0 || buf.readUInt16LE(offset + 10) !== 0) {
    return 'invalid record header';
  }
  if (buf.readUInt32LE(offset + 12) !== 0) return 'invalid record header';
  const end = offset + RECORD_HEADER_SIZE + pad8(length);
  if (end > buf.length) return 'record cut short by end of file';
  if (buf.readUInt32LE(offset) !== crc32c(buf, 0, offset + 4, end)) return 'checksum mismatch';
  const batch = readU64(buf, offset + 16);
  if (batch === undefined) return 'batch number out of range';
  const payloadStart = offset + RECORD_HEADER_SIZE;
  return {
    offset,
    type,
    lastInBatch: (flags & FLAG_LAST_IN_BATCH) !== 0,
    batch,
    payload: buf.subarray(payloadStart, payloadStart + length),
    end,
  };
}

// Payload decoders return a reason string when a checksummed payload still makes no sense (a
// bug or a format mismatch rather than a torn write): the caller reports it as corruption.

export function decodeEntry(payload: Buffer): Entry | string {
  if (payload.length < ENTRY_FIXED_SIZE) return 'entry record too short';
  const index = readU64(payload, 0);
  const term = readU64(payload, 8);
  const kind = payload.readUInt8(16);
  if (index === undefined || term === undefined || index < 1) return 'entry index/term invalid';
  if (kind > 1) return `unknown entry type ${kind}`;
  const type: EntryType = kind === 1 ? 'conf-change' : 'normal';
  // Copy: the entry must not keep the whole segment buffer alive.
  return { index, term, type, data: new Uint8Array(payload.subarray(ENTRY_FIXED_SIZE)) };
}

export function decodeHardState(payload: Buffer): HardState | string {
  if (payload.length !== HARD_STATE_SIZE) return 'hard state record has the wrong size';
  const term = readU64(payload, 0);
  const vote = readU64(payload, 8);
  const commit = readU64(payload, 16);
  if (term === undefined || vote === undefined || commit === undefined) {
    return 'hard state field out of range';
  }
  return { term, vote, commit };
}

export function decodeSnapshotMarker(payload: Buffer): SnapshotMarker | string {
  if (payload.length !== SNAPSHOT_MARKER_SIZE) return 'snapshot marker has the wrong size';
  const index = readU64(payload, 0);
  const term = readU64(payload, 8);
  const retains = payload.readUInt8(16);
  if (index === undefined || term === undefined || index < 1 || retains > 1) {
    return 'snapshot marker field invalid';
  }
  return { index, term, retainsLog: retains === 1 };
}
