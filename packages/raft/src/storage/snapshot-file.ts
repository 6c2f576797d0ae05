// The snapshot file format: `snapshot-<index, 20 digits>.snap`, little-endian.
//
//   0  u32 magic   4 u8 version, 3 zero bytes   8 u32 CRC-32C of bytes [16, end)   12 u32 zero
//   16 u64 index   24 u64 term   32 u32 voter count   36 u32 learner count
//   40 u64 per voter, then u64 per learner, then u64 data length, then the data.

import { crc32c } from './crc32c.js';
import { StorageCorruptionError } from './errors.js';
import { readU64, writeU64 } from './wal-format.js';
import type { Snapshot } from '../core/types.js';

const SNAPSHOT_MAGIC = 0x50414e53; // "SNAP" read as little-endian bytes
const SNAPSHOT_VERSION = 1;
const FIXED_SIZE = 40;

/**
 * The file as its header and the snapshot data itself, to be written one after the other: the
 * data is not copied, so a large snapshot is not held twice while it is written.
 */
export function encodeSnapshotFile(snapshot: Snapshot): [Buffer, Buffer] {
  const { index, term, confState } = snapshot.metadata;
  const ids = [...confState.voters, ...confState.learners];
  const dataAt = FIXED_SIZE + ids.length * 8 + 8;
  const header = Buffer.alloc(dataAt);
  header.writeUInt32LE(SNAPSHOT_MAGIC, 0);
  header.writeUInt8(SNAPSHOT_VERSION, 4);
  writeU64(header, 16, index);
  writeU64(header, 24, term);
  header.writeUInt32LE(confState.voters.length, 32);
  header.writeUInt32LE(confState.learners.length, 36);
  ids.forEach((id, i) => writeU64(header, FIXED_SIZE + i * 8, id));
  writeU64(header, dataAt - 8, snapshot.data.length);
  const data = Buffer.from(
    snapshot.data.buffer,
    snapshot.data.byteOffset,
    snapshot.data.byteLength,
  );
  header.writeUInt32LE(crc32c(data, crc32c(header, 0, 16)), 8);
  return [header, data];
}

/** Decodes a snapshot file; any damage is a StorageCorruptionError naming `file`. */
export function decodeSnapshotFile(file: string, buf: Buffer): Snapshot {
  const fail = (offset: number, detail: string): never => {
    throw new StorageCorruptionError(file, offset, detail);
  };
  if (buf.length < FIXED_SIZE + 8) fail(0, 'snapshot file too short');
  if (buf.readUInt32LE(0) !== SNAPSHOT_MAGIC) fail(0, 'not a snapshot file (bad magic)');
  if (buf.readUInt8(4) !== SNAPSHOT_VERSION) fail(4, `unsupported snapshot version`);
  if (buf.readUInt32LE(8) !== crc32c(buf, 0, 16)) fail(16, 'snapshot checksum mismatch');

  const index = readU64(buf, 16) ?? fail(16, 'snapshot index out of range');
  const term = readU64(buf, 24) ?? fail(24, 'snapshot term out of range');
  const voterCount = buf.readUInt32LE(32);
  const learnerCount = buf.readUInt32LE(36);
  const dataAt = FIXED_SIZE + (voterCount + learnerCount) * 8 + 8;
  if (dataAt > buf.length) fail(32, 'snapshot membership extends past end of file');
  const ids: number[] = [];
  for (let i = 0; i < voterCount + learnerCount; i++) {
    const at = FIXED_SIZE + i * 8;
    ids.push(readU64(buf, at) ?? fail(at, 'node id out of range'));
  }
  if (readU64(buf, dataAt - 8) !== buf.length - dataAt) {
    fail(dataAt - 8, 'snapshot data length does not match the file size');
  }
  return {
    metadata: {
      index,
      term,
      confState: { voters: ids.slice(0, voterCount), learners: ids.slice(voterCount) },
    },
    // A view, not a copy: the file's buffer is the snapshot's only copy in memory.
    data: new Uint8Array(buf.buffer, buf.byteOffset + dataAt, buf.length - dataAt),
  };
}
