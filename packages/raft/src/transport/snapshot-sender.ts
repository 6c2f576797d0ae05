// The sending side of a chunked snapshot: one InstallSnapshot call per snapshot, chunks written
// as the call's flow control allows (so only a chunk or two is buffered beyond the snapshot
// itself), the checksum computed on the way and announced with the last chunk. The outcome goes
// back to Raft (etcd-io/raft's ReportSnapshot): delivered moves the follower on, failed makes the
// leader send it again.
import type { ClientWritableStream, Metadata, ServiceError } from '@grpc/grpc-js';
import type { raftV1 } from '@catmesh/proto';
import { crc32c } from '../storage/crc32c.js';
import type { SnapshotOutcome } from './transport.js';

type SnapshotCall = ClientWritableStream<raftV1.InstallSnapshotRequest>;

const EMPTY = Buffer.alloc(0);

export class SnapshotSender {
  delivered = 0;
  failed = 0;
  private active: SnapshotCall | undefined;
  /** The newest snapshot asked for while one was being sent: it goes next, older ones never. */
  private pending: raftV1.Message | undefined;
  /** Resolves the wait for 'drain' of the active call when that call ends instead. */
  private wakeWriter: (() => void) | undefined;
  private closed = false;

  constructor(
    /** The link's client of the moment: the link replaces it when it re-dials. */
    private readonly client: () => raftV1.RaftPeerServiceClient,
    private readonly chunkBytes: number,
    private readonly metadata: () => Metadata,
    private readonly finished: (outcome: SnapshotOutcome, error: ServiceError | null) => void,
  ) {}

  send(message: raftV1.Message): void {
    if (this.closed) return;
    if (this.active) this.pending = message;
    else this.start(message);
  }

  close(): void {
    this.closed = true;
    this.pending = undefined;
    this.active?.cancel();
  }

  private start(message: raftV1.Message): void {
    const call = this.client().installSnapshot(this.metadata(), (error) => {
      this.active = undefined;
      this.wakeWriter?.();
      if (error) this.failed += 1;
      else this.delivered += 1;
      this.finished(error ? 'failed' : 'delivered', error);
      const next = this.pending;
      this.pending = undefined;
      if (next && !this.closed) this.start(next);
    });
    this.active = call;
    void this.stream(call, message);
  }

  private async stream(call: SnapshotCall, message: raftV1.Message): Promise<void> {
    const snapshot = message.snapshot!;
    const data = snapshot.data;
    const header: raftV1.Message = { ...message, snapshot: { ...snapshot, data: EMPTY } };
    let crc = 0;
    let offset = 0;
    do {
      if (this.active !== call) return; // failed or cancelled meanwhile
      const end = Math.min(offset + this.chunkBytes, data.length);
      crc = crc32c(data, crc, offset, end);
      const first = offset === 0;
      const chunk: raftV1.InstallSnapshotRequest = {
        header: first ? header : undefined,
        totalBytes: first ? data.length : 0,
        crc32c: end === data.length ? crc : 0,
        offset,
        data: data.subarray(offset, end),
      };
      offset = end;
      if (!call.write(chunk)) {
        await new Promise<void>((resolve) => {
          this.wakeWriter = resolve;
          call.once('drain', resolve);
        });
        this.wakeWriter = undefined;
      }
    } while (offset < data.length);
    if (this.active === call) call.end();
  }
}
