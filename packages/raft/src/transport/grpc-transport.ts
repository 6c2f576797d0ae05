// The production Raft transport: one gRPC stream per peer out, a RaftPeerService in.
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { raftV1 } from '@catmesh/proto';
import { GrpcPeerLink, type GrpcLinkSettings } from './grpc-peer-link.js';
import {
  createRaftPeerService,
  DEFAULT_MAX_MESSAGE_BYTES,
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
   * Largest encoded StreamRequest, so the largest snapshot that can be sent; messages above it
   * are dropped and counted. Default 64 MiB. Receiving servers need the same limit:
   * create them with raftPeerServerOptions(maxMessageBytes).
   */
  readonly maxMessageBytes?: number;
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

  constructor(options: GrpcRaftTransportOptions) {
    super(options);
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
    };
    requirePositiveInteger('queueCapacity', this.settings.queueCapacity);
    requirePositiveInteger('maxBatchMessages', this.settings.maxBatchMessages);
    requirePositiveInteger('maxInFlightMessages', this.settings.maxInFlightMessages);
    requirePositiveInteger('maxMessageBytes', this.settings.maxMessageBytes);
    requirePositiveInteger('reconnect.initialDelayMs', this.settings.reconnect.initialDelayMs);
    requirePositiveInteger('reconnect.maxDelayMs', this.settings.reconnect.maxDelayMs);
    this.peerService = createRaftPeerService((messages) => this.inbound.deliver(messages));
    this.service = this.peerService.implementation;
  }

  protected createLink(id: number, address: string): GrpcPeerLink {
    return new GrpcPeerLink(id, address, this.settings);
  }

  protected release(): Promise<void> {
    this.peerService.close();
    return Promise.resolve();
  }
}
