// Reads one segment file's records and decides what damage, if any, means.
//
// A crash can only damage the last batch written, because a batch is written only after the
// previous one's fsync returned. So damage that is followed by an intact record of a later batch
// is corruption of acknowledged data, and refused; damage with nothing of a later batch after it,
// at the end of the last segment, is a torn write of a batch nobody was told is durable, and that
// whole batch is dropped (a batch is all or nothing, so a save is never half-recovered).
// Damage confined to the last batch is indistinguishable from a torn write, whatever its cause.

import { StorageCorruptionError } from './errors.js';
import type { RawRecord, SegmentHeader } from './wal-format.js';
import { decodeSegmentHeader, readRecord, SEGMENT_HEADER_SIZE } from './wal-format.js';

export interface TornTail {
  /** Where the dropped batch started: the file is cut back to this length. */
  readonly offset: number;
  /** Where the first damaged byte range starts (>= offset). */
  readonly damageAt: number;
  readonly reason: string;
}

export interface SegmentScan {
  readonly header: SegmentHeader;
  /** Records of complete, intact batches, in file order. */
  readonly records: readonly RawRecord[];
  /** Byte length of the intact part of the file. */
  readonly validEnd: number;
  /** Number of the last complete batch, or header.firstBatch - 1 if there is none. */
  readonly lastBatch: number;
  readonly tornTail?: TornTail;
}

/**
 * Scans `buf`, the contents of segment `file`. Only the last segment may end in a torn batch
 * (earlier ones were fsynced before the next was created); damage anywhere else throws a
 * StorageCorruptionError.
 */
export function scanSegment(file: string, buf: Buffer, isLastSegment: boolean): SegmentScan {
  const header = decodeSegmentHeader(buf);
  if (typeof header === 'string') throw new StorageCorruptionError(file, 0, header);

  const records: RawRecord[] = [];
  let batchRecords: RawRecord[] = [];
  let expectedBatch = header.firstBatch;
  let batchStart = SEGMENT_HEADER_SIZE;
  let offset = SEGMENT_HEADER_SIZE;
  let damage: string | undefined;

  while (offset < buf.length) {
    const record = readRecord(buf, offset);
    if (typeof record === 'string') {
      damage = record;
      break;
    }
    if (record.batch !== expectedBatch) {
      damage = `record of batch ${record.batch} where batch ${expectedBatch} was expected`;
      break;
    }
    batchRecords.push(record);
    offset = record.end;
    if (record.lastInBatch) {
      records.push(...batchRecords);
      batchRecords = [];
      expectedBatch += 1;
      batchStart = offset;
    }
  }
  if (damage === undefined && batchRecords.length > 0) damage = 'batch cut short by end of file';

  if (damage !== undefined) {
    if (!isLastSegment) {
      throw new StorageCorruptionError(file, offset, `${damage} in a sealed segment`);
    }
    if (laterBatchFollows(buf, offset, expectedBatch)) {
      throw new StorageCorruptionError(
        file,
        offset,
        `${damage}, and records of later batches follow it`,
      );
    }
    return {
      header,
      records,
      validEnd: batchStart,
      lastBatch: expectedBatch - 1,
      tornTail: { offset: batchStart, damageAt: offset, reason: damage },
    };
  }
  return { header, records, validEnd: offset, lastBatch: expectedBatch - 1 };
}

/**
 * Whether an intact record of a batch after `batch` starts anywhere at or after `from`. Records
 * are 8-byte aligned, so only aligned offsets are tried; an intact record is skipped whole, so
 * bytes inside its payload are never mistaken for a record.
 */
function laterBatchFollows(buf: Buffer, from: number, batch: number): boolean {
  let offset = from;
  while (offset < buf.length) {
    const record = readRecord(buf, offset);
    if (typeof record === 'string') {
      offset += 8;
      continue;
    }
    if (record.batch > batch) return true;
    offset = record.end;
  }
  return false;
}
