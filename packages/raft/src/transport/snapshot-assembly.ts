// The receiving side of a chunked snapshot (Raft §7's InstallSnapshot with offsets): chunks are
// written into one buffer of the announced size, in order, and the snapshot is handed on only
// once every byte has arrived and the CRC-32C of the whole matches. A partial snapshot is never
// installed: whatever breaks the call takes the buffer with it.
import { raftV1 } from '@catmesh/proto';
import { crc32c } from '../storage/crc32c.js';

/** A chunk that does not fit the snapshot being received; the message names the field. */
export class SnapshotChunkError extends Error {
  override readonly name = 'SnapshotChunkError';
}

export class SnapshotAssembly {
  private readonly header: raftV1.Message;
  private readonly data: Buffer;
  private expectedCrc = 0;
  private received = 0;
  private chunks = 0;
  private crc = 0;

  /** Starts from the first chunk; `maxBytes` is the largest snapshot this replica takes. */
  constructor(first: raftV1.InstallSnapshotRequest, maxBytes: number) {
    const header = first.header;
    if (header === undefined) throw new SnapshotChunkError('header: missing on the first chunk');
    if (header.type !== raftV1.MessageType.MESSAGE_TYPE_SNAPSHOT) {
      throw new SnapshotChunkError(
        `header.type: must be MESSAGE_TYPE_SNAPSHOT, got ${header.type}`,
      );
    }
    if (header.snapshot?.metadata === undefined) {
      throw new SnapshotChunkError('header.snapshot.metadata: missing');
    }
    if (!Number.isSafeInteger(first.totalBytes) || first.totalBytes > maxBytes) {
      throw new SnapshotChunkError(
        `total_bytes: ${first.totalBytes} is more than the ${maxBytes} bytes this replica takes`,
      );
    }
    this.header = header;
    this.data = Buffer.allocUnsafe(first.totalBytes);
    this.add(first);
  }

  get complete(): boolean {
    return this.received === this.data.length;
  }

  get receivedBytes(): number {
    return this.received;
  }

  add(chunk: raftV1.InstallSnapshotRequest): void {
    if (this.chunks > 0 && chunk.header !== undefined) {
      throw new SnapshotChunkError('header: only the first chunk carries one');
    }
    if (this.chunks > 0 && this.complete) {
      throw new SnapshotChunkError(`offset: a chunk after all ${this.data.length} bytes`);
    }
    if (chunk.offset !== this.received) {
      throw new SnapshotChunkError(`offset: expected ${this.received}, got ${chunk.offset}`);
    }
    if (chunk.data.length > this.data.length - this.received) {
      throw new SnapshotChunkError(
        `data: ${chunk.data.length} bytes at offset ${chunk.offset} run past total_bytes ${this.data.length}`,
      );
    }
    chunk.data.copy(this.data, this.received);
    this.crc = crc32c(chunk.data, this.crc);
    this.received += chunk.data.length;
    this.chunks += 1;
    if (this.complete) this.expectedCrc = chunk.crc32c;
  }

  /** The whole snapshot as one Raft message; throws unless complete and intact. */
  message(): raftV1.Message {
    if (!this.complete) {
      throw new SnapshotChunkError(
        `the call ended after ${this.received} of ${this.data.length} bytes`,
      );
    }
    if (this.crc !== this.expectedCrc) {
      throw new SnapshotChunkError(
        `crc32c: the data's checksum is ${this.crc}, the sender announced ${this.expectedCrc}`,
      );
    }
    const snapshot = this.header.snapshot!;
    return { ...this.header, snapshot: { metadata: snapshot.metadata, data: this.data } };
  }
}
