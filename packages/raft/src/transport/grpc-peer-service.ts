// The receiving side of the gRPC transport: a RaftPeerService implementation the hosting process
// adds to its own gRPC server (sharing its port, health service and shutdown), plus the server
// options that let large message batches through.
import { constants as bufferConstants } from 'node:buffer';
import {
  Metadata,
  status,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerOptions,
  type ServerReadableStream,
  type StatusObject,
} from '@grpc/grpc-js';
import type { raftV1 } from '@catmesh/proto';
import { SnapshotAssembly } from './snapshot-assembly.js';

/**
 * The largest StreamRequest (a batch of messages). grpc-js refuses messages over 4 MiB by default
 * (RESOURCE_EXHAUSTED); the transport raises the sender's limit to this and
 * raftPeerServerOptions() the receiver's. Snapshots are not bound by it: they travel in chunks.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** Largest snapshot a replica takes by default: the largest Buffer Node.js can allocate. */
export const DEFAULT_MAX_SNAPSHOT_BYTES = bufferConstants.MAX_LENGTH;

/**
 * Options the hosting process passes to `new grpc.Server(...)` (merged with its own) so that the
 * server accepts Raft message batches and snapshot chunks up to `maxMessageBytes`. Use the same
 * limit as the senders' GrpcRaftTransport `maxMessageBytes`. It applies to every service on that
 * server.
 */
export function raftPeerServerOptions(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): ServerOptions {
  return { 'grpc.max_receive_message_length': maxMessageBytes };
}

/**
 * A sender that says its window (StreamRequest.window) is acknowledged once a quarter of it has
 * arrived, or this long after the first message not yet acknowledged. An ack only opens the
 * sender's window (Raft's own responses carry progress), so at a low rate one per batch would be
 * a frame each way for nothing, while a busy stream is acknowledged long before its window fills.
 */
const ACK_DELAY_MS = 50;

/** Takes one batch; the batch is acknowledged when the returned promise settles. */
export type BatchReceiver = (messages: raftV1.Message[]) => void | Promise<void>;

export interface RaftPeerServiceOptions {
  /**
   * Checks a call's headers before anything is read from it: undefined admits it, a status
   * refuses it (the transport refuses calls from another cluster here).
   */
  readonly admit?: (metadata: Metadata, peer: string) => Partial<StatusObject> | undefined;
  /** Largest snapshot taken (total_bytes); larger ones are refused. Default DEFAULT_MAX_SNAPSHOT_BYTES. */
  readonly maxSnapshotBytes?: number;
  /** Told about every inbound snapshot dropped before it was complete and intact. */
  readonly onBrokenSnapshot?: (error: Error) => void;
}

export interface RaftPeerService {
  /** Add with `server.addService(raftV1.RaftPeerServiceService, service.implementation)`. */
  readonly implementation: raftV1.RaftPeerServiceServer;
  /**
   * Ends every open inbound stream and refuses new ones with UNAVAILABLE. Long-lived streams
   * would otherwise keep the server's `tryShutdown` waiting.
   */
  close(): void;
}

type PeerStream = ServerDuplexStream<raftV1.StreamRequest, raftV1.StreamResponse>;

type SnapshotCall = ServerReadableStream<
  raftV1.InstallSnapshotRequest,
  raftV1.InstallSnapshotResponse
>;

/**
 * Builds the handlers of `RaftPeerService`. Stream: batches from one stream reach `receive` one
 * at a time, in order, and are acknowledged with the count received on the stream so far once
 * `receive` has settled (coalesced, see ACK_DELAY_MS); a `receive` that throws fails the stream
 * with INTERNAL and the sender reconnects. InstallSnapshot: the chunks are assembled and checked,
 * and only the complete snapshot reaches `receive`, as one message; the call succeeds once
 * `receive` has settled.
 */
export function createRaftPeerService(
  receive: BatchReceiver,
  options: RaftPeerServiceOptions = {},
): RaftPeerService {
  /** Open calls, each with the function that ends it. */
  const open = new Map<PeerStream | SnapshotCall, () => void>();
  let closed = false;
  const maxSnapshotBytes = options.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES;

  const refusal = (metadata: Metadata, peer: string): Partial<StatusObject> | undefined =>
    closed
      ? { code: status.UNAVAILABLE, details: 'the Raft transport is closed' }
      : options.admit?.(metadata, peer);

  const stream = (call: PeerStream): void => {
    const refused = refusal(call.metadata, call.getPeer());
    if (refused) {
      call.emit('error', refused);
      return;
    }
    let done = false;
    let received = 0;
    let acked = 0;
    let ackTimer: NodeJS.Timeout | undefined;
    let pending = Promise.resolve();
    const ack = (): void => {
      clearTimeout(ackTimer);
      ackTimer = undefined;
      if (done || received === acked) return;
      acked = received;
      call.write({ received });
    };
    const finish = (): void => {
      done = true;
      clearTimeout(ackTimer);
      open.delete(call);
    };
    open.set(call, () => {
      finish();
      call.end();
    });
    // Headers now, not with the first ack: they tell the sender the stream is up.
    call.sendMetadata(new Metadata());
    call.on('data', (request: raftV1.StreamRequest) => {
      pending = pending.then(async () => {
        if (done) return;
        try {
          await receive(request.messages);
        } catch (error) {
          finish();
          call.emit('error', {
            code: status.INTERNAL,
            details: `Raft receive failed: ${String(error)}`,
          });
          return;
        }
        received += request.messages.length;
        const ackEvery = Math.max(1, Math.floor(request.window / 4));
        if (received - acked >= ackEvery) ack();
        else ackTimer ??= setTimeout(ack, ACK_DELAY_MS);
      });
    });
    call.on('end', () => {
      // The sender half-closed: acknowledge the batches still being received, then end.
      void pending.then(() => {
        ack();
        open.get(call)?.();
      });
    });
    call.on('cancelled', finish);
    call.on('error', finish);
    call.on('close', finish);
  };

  const installSnapshot = (
    call: SnapshotCall,
    callback: sendUnaryData<raftV1.InstallSnapshotResponse>,
  ): void => {
    const refused = refusal(call.metadata, call.getPeer());
    if (refused) {
      callback(refused);
      return;
    }
    let assembly: SnapshotAssembly | undefined;
    let settled = false;
    const fail = (code: status, error: Error): void => {
      if (settled) return;
      settled = true;
      open.delete(call);
      // The partial snapshot goes with the assembly: nothing of it was handed on.
      assembly = undefined;
      options.onBrokenSnapshot?.(error);
      callback({ code, details: error.message });
    };
    open.set(call, () => fail(status.UNAVAILABLE, new Error('the Raft transport is closed')));
    call.on('data', (chunk: raftV1.InstallSnapshotRequest) => {
      if (settled) return;
      try {
        if (assembly) assembly.add(chunk);
        else assembly = new SnapshotAssembly(chunk, maxSnapshotBytes);
      } catch (error) {
        fail(status.INVALID_ARGUMENT, error as Error);
        call.destroy();
      }
    });
    call.on('end', () => {
      if (settled) return;
      let message: raftV1.Message;
      try {
        if (!assembly) throw new Error('the call ended before its first chunk');
        message = assembly.message();
      } catch (error) {
        fail(status.INVALID_ARGUMENT, error as Error);
        return;
      }
      const receivedBytes = assembly.receivedBytes;
      assembly = undefined;
      void Promise.resolve()
        .then(() => receive([message]))
        .then(
          () => {
            if (settled) return;
            settled = true;
            open.delete(call);
            callback(null, { receivedBytes });
          },
          (error: unknown) =>
            fail(status.INTERNAL, new Error(`Raft receive failed: ${String(error)}`)),
        );
    });
    const broken = (): void => fail(status.CANCELLED, new Error('the snapshot call broke'));
    call.on('cancelled', broken);
    call.on('error', broken);
  };

  return {
    implementation: { stream, installSnapshot },
    close() {
      closed = true;
      for (const end of [...open.values()]) end();
    },
  };
}
