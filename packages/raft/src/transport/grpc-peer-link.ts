// The sending side of the gRPC transport for one peer: a bounded queue drained into one
// long-lived RaftPeerService.Stream, with a window of unacknowledged messages as backpressure
// and reconnection with backoff when the stream breaks. Snapshots take their own call
// (InstallSnapshot, in chunks), so a large one never holds up heartbeats and appends.
import {
  credentials as grpcCredentials,
  type ChannelCredentials,
  type ChannelOptions,
  type ClientDuplexStream,
  type StatusObject,
} from '@grpc/grpc-js';
import { raftV1 } from '@catmesh/proto';
import { BoundedQueue } from './bounded-queue.js';
import type { ClusterIdentity, ClusterIdMismatchError } from './cluster-handshake.js';
import { encodedSizeUpperBound, REQUEST_FIXED, takeBatch } from './message-batch.js';
import type { PeerLink } from './peer-transport.js';
import { reconnectDelay, type ReconnectBackoff } from './reconnect-backoff.js';
import { SnapshotSender } from './snapshot-sender.js';
import type { PeerStatus, SnapshotOutcome } from './transport.js';

export interface GrpcLinkSettings {
  readonly queueCapacity: number;
  readonly maxBatchMessages: number;
  readonly maxInFlightMessages: number;
  readonly maxMessageBytes: number;
  readonly reconnect: ReconnectBackoff;
  readonly credentials: ChannelCredentials | undefined;
  readonly random: () => number;
  readonly snapshotChunkBytes: number;
  readonly identity: ClusterIdentity;
  readonly onClusterIdMismatch: ((error: ClusterIdMismatchError) => void) | undefined;
}

type PeerStream = ClientDuplexStream<raftV1.StreamRequest, raftV1.StreamResponse>;

/** Pings detect a peer that vanished without closing its connection (a cable cut, a netfilter drop). */
const KEEPALIVE_TIME_MS = 10_000;
const KEEPALIVE_TIMEOUT_MS = 5_000;
/**
 * How long a stream may wait for the peer's headers before the link re-dials on a new channel.
 * grpc-js has no connect timeout of its own: a connection to an address that drops packets
 * (a recreated pod's old IP behind a NetworkPolicy, a host gone without a trace) waits out the
 * kernel's SYN retries, about two minutes, on the address resolved before. A new channel
 * resolves the peer's name again and connects afresh.
 */
export const CONNECT_TIMEOUT_MS = 5_000;

export class GrpcPeerLink implements PeerLink {
  private client: raftV1.RaftPeerServiceClient;
  private readonly channelOptions: ChannelOptions;
  private readonly queue: BoundedQueue<raftV1.Message>;
  private readonly snapshots: SnapshotSender;
  /** `connecting`: a stream was started and its headers are awaited; `waiting`: backing off. */
  private state: 'connecting' | 'open' | 'waiting' | 'closed' = 'connecting';
  private stream: PeerStream | undefined;
  private streamEnded: Promise<void> = Promise.resolve();
  private failedAttempts = 0;
  private sentOnStream = 0;
  private ackedOnStream = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private pumpScheduled: NodeJS.Immediate | undefined;
  private sent = 0;
  private batches = 0;
  private dropped = 0;
  private reconnects = 0;
  /** New channels made because a connection never came up (see CONNECT_TIMEOUT_MS). */
  private redials = 0;
  private lastSentAt: number | undefined;

  constructor(
    private readonly id: number,
    readonly address: string,
    private readonly settings: GrpcLinkSettings,
    reportSnapshot: (outcome: SnapshotOutcome) => void,
  ) {
    this.queue = new BoundedQueue(settings.queueCapacity);
    this.channelOptions = {
      'grpc.max_send_message_length': settings.maxMessageBytes,
      // The channel's own reconnection follows the same schedule as the stream's, so a stream
      // retry does not find the channel still backing off on a much longer default (up to 120 s).
      'grpc.initial_reconnect_backoff_ms': settings.reconnect.initialDelayMs,
      'grpc.max_reconnect_backoff_ms': settings.reconnect.maxDelayMs,
      'grpc.keepalive_time_ms': KEEPALIVE_TIME_MS,
      'grpc.keepalive_timeout_ms': KEEPALIVE_TIMEOUT_MS,
    };
    this.client = this.newClient();
    this.snapshots = new SnapshotSender(
      () => this.client,
      settings.snapshotChunkBytes,
      () => settings.identity.callMetadata(),
      (outcome, error) => {
        if (error) this.checkRefusal(error);
        reportSnapshot(outcome);
      },
    );
    this.connect();
  }

  enqueue(message: raftV1.Message): void {
    if (this.state === 'closed') return;
    if (message.type === raftV1.MessageType.MESSAGE_TYPE_SNAPSHOT) {
      this.snapshots.send(message);
      return;
    }
    if (REQUEST_FIXED + encodedSizeUpperBound(message) > this.settings.maxMessageBytes) {
      this.dropped += 1;
      return;
    }
    if (this.queue.push(message)) this.dropped += 1;
    // Sends made in the same turn of the event loop (one Raft Ready) leave as one batch.
    this.pumpScheduled ??= setImmediate(() => {
      this.pumpScheduled = undefined;
      this.pump();
    });
  }

  status(): PeerStatus {
    return {
      id: this.id,
      address: this.address,
      connected: this.state === 'open',
      lastSentAt: this.lastSentAt,
      queued: this.queue.length,
      inFlight: this.inFlight(),
      sent: this.sent,
      batches: this.batches,
      dropped: this.dropped,
      reconnects: this.reconnects,
      redials: this.redials,
      snapshotsDelivered: this.snapshots.delivered,
      snapshotsFailed: this.snapshots.failed,
    };
  }

  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.connectTimer);
    clearImmediate(this.pumpScheduled);
    this.queue.clear();
    this.snapshots.close();
    this.stream?.cancel();
    this.stream = undefined;
    this.client.close();
    await this.streamEnded;
  }

  private inFlight(): number {
    return this.sentOnStream - this.ackedOnStream;
  }

  private newClient(): raftV1.RaftPeerServiceClient {
    return new raftV1.RaftPeerServiceClient(
      this.address,
      this.settings.credentials ?? grpcCredentials.createInsecure(),
      this.channelOptions,
    );
  }

  private connect(): void {
    this.state = 'connecting';
    this.sentOnStream = 0;
    this.ackedOnStream = 0;
    const stream = this.client.stream(this.settings.identity.callMetadata());
    this.stream = stream;
    this.streamEnded = new Promise((resolve) => stream.once('status', () => resolve()));
    this.connectTimer = setTimeout(() => {
      if (this.stream !== stream || this.state !== 'connecting') return;
      // A snapshot call on the old channel waited on the same dead connection: it fails with it
      // and is sent again.
      const stale = this.client;
      this.client = this.newClient();
      stale.close();
      this.redials += 1;
      stream.cancel();
    }, CONNECT_TIMEOUT_MS);
    stream.on('metadata', () => {
      if (this.stream !== stream) return;
      clearTimeout(this.connectTimer);
      this.state = 'open';
      this.failedAttempts = 0;
      this.pump();
    });
    stream.on('data', (response: raftV1.StreamResponse) => {
      if (this.stream === stream) this.acknowledged(response.received);
    });
    // Every failure also arrives as a 'status' event, which decides; without an 'error'
    // listener the stream would throw it.
    stream.on('error', () => undefined);
    stream.on('status', (result: StatusObject) => {
      if (this.stream !== stream) return;
      clearTimeout(this.connectTimer);
      this.checkRefusal(result);
      this.broken();
    });
  }

  /** A peer of another cluster refused the call: say so (the replica decides whether to stop). */
  private checkRefusal(result: Partial<StatusObject>): void {
    const mismatch = this.settings.identity.mismatchIn(result, this.address);
    if (mismatch) this.settings.onClusterIdMismatch?.(mismatch);
  }

  private acknowledged(received: number): void {
    // Never more than was sent: a confused receiver must not open the window wider.
    const acked = Math.min(received, this.sentOnStream);
    if (acked <= this.ackedOnStream) return;
    this.sent += acked - this.ackedOnStream;
    this.ackedOnStream = acked;
    this.lastSentAt = Date.now();
    this.pump();
  }

  private broken(): void {
    if (this.state === 'open') this.reconnects += 1;
    // Unacknowledged messages may or may not have arrived; Raft resends what matters.
    this.dropped += this.inFlight();
    this.sentOnStream = 0;
    this.ackedOnStream = 0;
    this.stream = undefined;
    this.state = 'waiting';
    const delay = reconnectDelay(
      this.failedAttempts,
      this.settings.reconnect,
      this.settings.random,
    );
    this.failedAttempts += 1;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      this.connect();
    }, delay);
  }

  private pump(): void {
    const stream = this.stream;
    if (this.state !== 'open' || stream === undefined) return;
    const { maxBatchMessages, maxInFlightMessages, maxMessageBytes } = this.settings;
    while (this.queue.length > 0 && this.inFlight() < maxInFlightMessages) {
      const room = Math.min(maxBatchMessages, maxInFlightMessages - this.inFlight());
      const messages = takeBatch(this.queue, room, maxMessageBytes);
      stream.write({ messages, window: maxInFlightMessages });
      this.sentOnStream += messages.length;
      this.batches += 1;
    }
  }
}
