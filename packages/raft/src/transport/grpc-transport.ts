// The production Raft transport: one gRPC stream per peer out, a RaftPeerService in.
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { raftV1 } from '@catmesh/proto';
import { checkClusterId } from '../storage/cluster-id-file.js';
import { ClusterIdentity, type ClusterIdMismatchError } from './cluster-handshake.js';
import { GrpcPeerLink, type GrpcLinkSettings } from './grpc-peer-link.js';
import {
  createRaftPeerService,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_SNAPSHOT_BYTES,
  type RaftPeerService,
} from './grpc-peer-service.js';
import {
  PeerTransport,
  requirePositiveInteger,
  type PeerTransportOptions,
} from './peer-transport.js';
import type { ReconnectBackoff } from './reconnect-backoff.js';

export interface GrpcRaftTransportOptions extends PeerTransportOptions {
  /** Messages queued per peer; beyond it the oldest are dropped. Default 1024. */
  readonly queueCapacity?: number;
  /** Messages per StreamRequest at most. Default 64. */
  readonly maxBatchMessages?: number;
  /** Messages sent to a peer and not yet acknowledged, at most (the backpressure window). Default 256. */
  readonly maxInFlightMessages?: number;
  /**
   * Largest encoded StreamRequest; a message above it is dropped and counted. Default 64 MiB.
   * Receiving servers need the same limit: create them with raftPeerServerOptions(maxMessageBytes).
   */
  readonly maxMessageBytes?: number;
  /** Snapshot bytes per InstallSnapshot chunk; below maxMessageBytes. Default 1 MiB. */
  readonly snapshotChunkBytes?: number;
  /** Largest snapshot this replica receives. Default the largest Buffer Node.js allocates. */
  readonly maxSnapshotBytes?: number;
  /**
   * The Raft group this replica belongs to, sent on every call; calls carrying another id are
   * refused with FAILED_PRECONDITION. Undefined for a joiner that has not learned it yet: it
   * adopts the id of the first peer that calls it (onClusterIdAdopted).
   */
  readonly clusterId?: string;
  /** A replica that had no cluster id adopted one from a peer's call: persist it. */
  readonly onClusterIdAdopted?: (id: string) => void;
  /**
   * A call crossed two clusters: this replica refused one (inbound) or a peer refused this
   * replica's (outbound). The transport only refuses; whether to stop is the replica's call.
   */
  readonly onClusterIdMismatch?: (error: ClusterIdMismatchError) => void;
  /** Reconnection after a broken stream. Default 100 ms doubling up to 5 s, with jitter. */
  readonly reconnect?: Partial<ReconnectBackoff>;
  /** Channel credentials towards peers. Default insecure (plain HTTP/2). */
  readonly credentials?: ChannelCredentials;
  /** Source of jitter, in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

/**
 * A RaftTransport over gRPC. It creates no server: the hosting process adds `service` to its own
 * server, built with raftPeerServerOptions():
 *
 *   const server = new grpc.Server({ ...raftPeerServerOptions(), ...otherOptions });
 *   server.addService(raftV1.RaftPeerServiceService, transport.service);
 *
 * close() ends the inbound streams too, so the server's tryShutdown can complete.
 */
export class GrpcRaftTransport extends PeerTransport<GrpcPeerLink> {
  readonly service: raftV1.RaftPeerServiceServer;
  private readonly peerService: RaftPeerService;
  private readonly settings: GrpcLinkSettings;
  private readonly identity: ClusterIdentity;

  constructor(options: GrpcRaftTransportOptions) {
    super(options);
    if (options.clusterId !== undefined) checkClusterId(options.clusterId, 'clusterId');
    const identity = new ClusterIdentity(options.clusterId, options.onClusterIdAdopted);
    this.identity = identity;
    this.settings = {
      queueCapacity: options.queueCapacity ?? 1024,
      maxBatchMessages: options.maxBatchMessages ?? 64,
      maxInFlightMessages: options.maxInFlightMessages ?? 256,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      reconnect: {
        initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
        maxDelayMs: options.reconnect?.maxDelayMs ?? 5_000,
      },
      credentials: options.credentials,
      random: options.random ?? Math.random,
      snapshotChunkBytes: options.snapshotChunkBytes ?? 1024 * 1024,
      identity,
      onClusterIdMismatch: options.onClusterIdMismatch,
    };
    requirePositiveInteger('queueCapacity', this.settings.queueCapacity);
    requirePositiveInteger('maxBatchMessages', this.settings.maxBatchMessages);
    requirePositiveInteger('maxInFlightMessages', this.settings.maxInFlightMessages);
    requirePositiveInteger('maxMessageBytes', this.settings.maxMessageBytes);
    requirePositiveInteger('reconnect.initialDelayMs', this.settings.reconnect.initialDelayMs);
    requirePositiveInteger('reconnect.maxDelayMs', this.settings.reconnect.maxDelayMs);
    requirePositiveInteger('snapshotChunkBytes', this.settings.snapshotChunkBytes);
    // A chunk's framing (header message, offsets) must fit beside its data.
    if (this.settings.snapshotChunkBytes > this.settings.maxMessageBytes - 64 * 1024) {
      throw new RangeError(
        `snapshotChunkBytes must be at least 64 KiB below maxMessageBytes (${this.settings.maxMessageBytes}), got ${this.settings.snapshotChunkBytes}`,
      );
    }
    const maxSnapshotBytes = options.maxSnapshotBytes ?? DEFAULT_MAX_SNAPSHOT_BYTES;
    requirePositiveInteger('maxSnapshotBytes', maxSnapshotBytes);
    this.peerService = createRaftPeerService((messages) => this.inbound.deliver(messages), {
      maxSnapshotBytes,
      admit: (metadata, peer) => {
        const mismatch = identity.admit(metadata, peer);
        if (mismatch === undefined) return undefined;
        this.inbound.refusedCalls += 1;
        options.onClusterIdMismatch?.(mismatch);
        return identity.refusal(mismatch);
      },
      onBrokenSnapshot: () => {
        this.inbound.brokenSnapshots += 1;
      },
    });
    this.service = this.peerService.implementation;
  }

  /** The cluster id calls carry now (a joiner's is undefined until it adopts one). */
  get clusterId(): string | undefined {
    return this.identity.current;
  }

  protected createLink(id: number, address: string): GrpcPeerLink {
    return new GrpcPeerLink(id, address, this.settings, (outcome) =>
      this.reportSnapshot(id, outcome),
    );
  }

  protected release(): Promise<void> {
    this.peerService.close();
    return Promise.resolve();
  }
}
