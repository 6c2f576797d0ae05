// The contract every Raft peer transport keeps, whatever carries the bytes (gRPC streams in
// production, an in-process network in service tests). It speaks the wire type raftV1.Message;
// the codec between the core's Message and raftV1.Message lives elsewhere.
import type { raftV1 } from '@catmesh/proto';
import type { TransportFaultFilter } from './fault-filter.js';

/**
 * Takes a batch of inbound messages, all from one peer and in the order that peer sent them.
 * A returned promise tells the transport when the batch has been taken: until it settles the
 * transport does not acknowledge it, which is what pushes back on a fast sender. Batches from
 * different peers (and messages a fault filter delayed) may arrive while one is still pending.
 */
export type ReceiveHandler = (messages: readonly raftV1.Message[]) => void | Promise<void>;

/** What became of a snapshot sent to a peer: the Raft leader's RaftNode.reportSnapshot takes it. */
export type SnapshotOutcome = 'delivered' | 'failed';

/**
 * Told, once per snapshot message sent, whether the peer received the whole snapshot intact. A
 * snapshot the filter or an unknown peer swallowed is reported failed at once.
 */
export type SnapshotReportHandler = (peer: number, outcome: SnapshotOutcome) => void;

/** What one outbound peer link has done so far; counters only grow (until the peer's address changes). */
export interface PeerStatus {
  readonly id: number;
  readonly address: string;
  /** A stream to the peer is open now. */
  readonly connected: boolean;
  /** Epoch milliseconds of the peer's latest acknowledgement, undefined before the first. */
  readonly lastSentAt: number | undefined;
  /** Messages waiting to be sent (bounded by the queue capacity). */
  readonly queued: number;
  /** Messages sent but not yet acknowledged (bounded by the in-flight window). */
  readonly inFlight: number;
  /** Messages the peer has acknowledged. */
  readonly sent: number;
  /** Batches (StreamRequests) sent. */
  readonly batches: number;
  /**
   * Messages given up on: evicted from a full queue, larger than the message size limit, in
   * flight when the connection broke, or lost to the in-memory network's partitions and loss.
   */
  readonly dropped: number;
  /** Times an open connection to the peer was lost. */
  readonly reconnects: number;
  /** Times a connection never came up and the link dialled again on a new channel (gRPC). */
  readonly redials: number;
  /** Snapshots the peer received whole (chunked over InstallSnapshot with gRPC). */
  readonly snapshotsDelivered: number;
  /** Snapshots that did not arrive whole: a broken call, a refusal, a lost message. */
  readonly snapshotsFailed: number;
}

export interface TransportStatus {
  readonly localId: number;
  readonly peers: readonly PeerStatus[];
  /** Messages sent to an id that is not a configured peer (Raft's view of membership is ahead). */
  readonly unknownPeerDropped: number;
  readonly inbound: {
    /** Messages handed to the receive handler. */
    readonly received: number;
    /** Messages refused: addressed to another node, from node 0, or with no handler set. */
    readonly rejected: number;
    /** Batches whose handler threw or rejected. */
    readonly handlerErrors: number;
    /** Inbound snapshots dropped before completion: a broken call, a bad chunk or checksum. */
    readonly brokenSnapshots: number;
    /** Calls refused because they came from another cluster (gRPC only). */
    readonly refusedCalls: number;
  };
  /** What the fault filter did, both directions together. */
  readonly faults: { readonly dropped: number; readonly delayed: number };
}

export interface RaftTransport {
  readonly localId: number;
  /**
   * Queues messages for their peers (by `to`) and returns at once. It never blocks and never
   * throws for a peer that is down or unknown: Raft tolerates loss, so such messages are dropped
   * and counted, never buffered without bound.
   */
  send(messages: readonly raftV1.Message[]): void;
  /** Sets the single handler of inbound messages; messages arriving before it is set are rejected. */
  onReceive(handler: ReceiveHandler): void;
  /** Sets the single handler told how each snapshot sent ended (etcd-io/raft's ReportSnapshot). */
  onSnapshotReport(handler: SnapshotReportHandler): void;
  /** Adds a peer or moves it to a new address (a new connection; its old queue is discarded). */
  updatePeer(id: number, address: string): void;
  /** Forgets a peer: its connection closes and its queued messages are discarded. */
  removePeer(id: number): void;
  /** Installs (or with undefined removes) the fault filter consulted for every message. */
  setFaultFilter(filter: TransportFaultFilter | undefined): void;
  status(): TransportStatus;
  /** Stops sending and receiving and releases every connection and timer. Idempotent. */
  close(): Promise<void>;
}
