// The receiving side of the gRPC transport: a RaftPeerService implementation the hosting process
// adds to its own gRPC server (sharing its port, health service and shutdown), plus the server
// options that let snapshots through.
import { Metadata, status, type ServerDuplexStream, type ServerOptions } from '@grpc/grpc-js';
import type { raftV1 } from '@catmesh/proto';

/**
 * Raft snapshots travel as one message, so the gRPC message size limit is the snapshot size
 * limit. grpc-js refuses messages over 4 MiB by default (RESOURCE_EXHAUSTED); the transport
 * raises the sender's limit to this and raftPeerServerOptions() the receiver's.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Options the hosting process passes to `new grpc.Server(...)` (merged with its own) so that the
 * server accepts Raft messages up to `maxMessageBytes`. Use the same limit as the senders'
 * GrpcRaftTransport `maxMessageBytes`. The limit applies to every service on that server.
 */
export function raftPeerServerOptions(maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES): ServerOptions {
  return { 'grpc.max_receive_message_length': maxMessageBytes };
}

/** Takes one batch; the batch is acknowledged when the returned promise settles. */
export type BatchReceiver = (messages: raftV1.Message[]) => void | Promise<void>;

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

/**
 * Builds the handler of `RaftPeerService.Stream`: batches from one stream reach `receive` one at a
 * time, in order, and each is acknowledged with the count received on the stream so far once
 * `receive` has settled. A `receive` that throws fails the stream with INTERNAL; the sender then
 * reconnects.
 */
export function createRaftPeerService(receive: BatchReceiver): RaftPeerService {
  /** Open streams, each with the function that ends it. */
  const open = new Map<PeerStream, () => void>();
  let closed = false;

  const stream = (call: PeerStream): void => {
    if (closed) {
      call.emit('error', { code: status.UNAVAILABLE, details: 'the Raft transport is closed' });
      return;
    }
    let done = false;
    let received = 0;
    let pending = Promise.resolve();
    const finish = (): void => {
      done = true;
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
        if (!done) call.write({ received });
      });
    });
    call.on('end', () => {
      // The sender half-closed: acknowledge the batches still being received, then end.
      void pending.then(() => open.get(call)?.());
    });
    call.on('cancelled', finish);
    call.on('error', finish);
    call.on('close', finish);
  };

  return {
    implementation: { stream },
    close() {
      closed = true;
      for (const end of [...open.values()]) end();
    },
  };
}
