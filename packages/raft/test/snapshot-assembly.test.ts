// The receiving side of chunked snapshots: only a complete snapshot whose checksum matches is
// ever handed on.
import { raftV1 } from '@catmesh/proto';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../src/storage/crc32c.js';
import { SnapshotAssembly } from '../src/transport/snapshot-assembly.js';

const data = Buffer.from('0123456789abcdef');
const header = raftV1.Message.fromPartial({
  type: raftV1.MessageType.MESSAGE_TYPE_SNAPSHOT,
  from: 1,
  to: 2,
  term: 4,
  snapshot: { metadata: { index: 9, term: 4, confState: { voters: [1, 2], learners: [] } } },
});

function chunk(offset: number, end: number, extra: Partial<raftV1.InstallSnapshotRequest> = {}) {
  return raftV1.InstallSnapshotRequest.fromPartial({
    header: offset === 0 ? header : undefined,
    totalBytes: offset === 0 ? data.length : 0,
    crc32c: end === data.length ? crc32c(data) : 0,
    offset,
    data: data.subarray(offset, end),
    ...extra,
  });
}

describe('SnapshotAssembly', () => {
  it('hands on the whole snapshot, data and metadata, once the last chunk arrived', () => {
    const assembly = new SnapshotAssembly(chunk(0, 6), 1024);
    assembly.add(chunk(6, 12));
    expect(() => assembly.message()).toThrow('the call ended after 12 of 16 bytes');
    assembly.add(chunk(12, 16));
    const message = assembly.message();
    expect(message.snapshot!.data.equals(data)).toBe(true);
    expect(message).toMatchObject({ from: 1, to: 2, term: 4, type: header.type });
    expect(message.snapshot!.metadata).toEqual(header.snapshot!.metadata);
  });

  it.each([
    ['a gap', [chunk(0, 6), chunk(8, 16)], 'offset: expected 6, got 8'],
    ['a repeated chunk', [chunk(0, 6), chunk(0, 6)], 'only the first chunk carries one'],
    [
      'data past the size',
      [chunk(0, 6), chunk(6, 16, { data: Buffer.alloc(11) })],
      'run past total_bytes 16',
    ],
    ['a chunk after the end', [chunk(0, 16), chunk(16, 16)], 'a chunk after all 16 bytes'],
  ])('refuses %s', (_, chunks, message) => {
    const assembly = new SnapshotAssembly(chunks[0]!, 1024);
    expect(() => chunks.slice(1).forEach((c) => assembly.add(c))).toThrow(message);
  });

  it('refuses a snapshot whose checksum does not match, even when every byte arrived', () => {
    const assembly = new SnapshotAssembly(chunk(0, 8), 1024);
    const corrupt = Buffer.from(data.subarray(8, 16));
    corrupt.writeUInt8(corrupt.readUInt8(3) ^ 1, 3);
    assembly.add(chunk(8, 16, { data: corrupt }));
    expect(assembly.complete).toBe(true);
    expect(() => assembly.message()).toThrow(
      /crc32c: the data's checksum is \d+, the sender announced/,
    );
  });

  it('refuses a first chunk without a snapshot header, or announcing more than it takes', () => {
    expect(() => new SnapshotAssembly(chunk(0, 6, { header: undefined }), 1024)).toThrow(
      'header: missing on the first chunk',
    );
    expect(() => new SnapshotAssembly(chunk(0, 6), 8)).toThrow(
      'total_bytes: 16 is more than the 8 bytes this replica takes',
    );
    const append = { ...header, type: raftV1.MessageType.MESSAGE_TYPE_APPEND };
    expect(() => new SnapshotAssembly(chunk(0, 6, { header: append }), 1024)).toThrow(
      'header.type: must be MESSAGE_TYPE_SNAPSHOT',
    );
  });
});
