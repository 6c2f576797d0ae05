// The part of a RaftTransport that does not depend on what carries the messages: routing to peer
// links, the fault filter, the inbound path, status and shutdown.
import { raftV1 } from '@catmesh/proto';
import { FaultGate, type TransportFaultFilter } from './fault-filter.js';
import { InboundPath } from './inbound-path.js';
import type {
  PeerStatus,
  RaftTransport,
  ReceiveHandler,
  SnapshotOutcome,
  SnapshotReportHandler,
  TransportStatus,
} from './transport.js';

/** The sending side of the connection to one peer. */
export interface PeerLink {
  readonly address: string;
  /** Queues one message; never blocks or throws. A snapshot's outcome must be reported. */
  enqueue(message: raftV1.Message): void;
  status(): PeerStatus;
  /** Stops sending and releases the connection; queued messages are discarded. */
  close(): Promise<void>;
}

export interface PeerTransportOptions {
  /** This replica's Raft id (a positive integer). */
  readonly localId: number;
  /** Consulted for every message in both directions (the `app` fault mechanism). */
  readonly faultFilter?: TransportFaultFilter;
  /** Told about receive handler failures (they are also counted in status). */
  readonly onError?: (error: unknown) => void;
}

export abstract class PeerTransport<Link extends PeerLink> implements RaftTransport {
  readonly localId: number;
  protected readonly inbound: InboundPath;
  private readonly gate: FaultGate;
  private readonly links = new Map<number, Link>();
  private unknownPeerDropped = 0;
  private snapshotReport: SnapshotReportHandler | undefined;
  private closed = false;

  constructor(options: PeerTransportOptions) {
    requirePositiveInteger('localId', options.localId);
    this.localId = options.localId;
    this.gate = new FaultGate(options.localId, options.faultFilter);
    this.inbound = new InboundPath(options.localId, this.gate, options.onError);
  }

  send(messages: readonly raftV1.Message[]): void {
    if (this.closed) return;
    this.route(
      this.gate.admit(
        messages,
        'outbound',
        (late) => this.route(late),
        (dropped) => this.lost(dropped),
      ),
    );
  }

  onReceive(handler: ReceiveHandler): void {
    this.inbound.setHandler(handler);
  }

  onSnapshotReport(handler: SnapshotReportHandler): void {
    this.snapshotReport = handler;
  }

  updatePeer(id: number, address: string): void {
    requirePositiveInteger('peer id', id);
    if (id === this.localId) throw new RangeError(`peer id ${id} is this node's own id`);
    if (address === '') throw new RangeError(`peer ${id}: empty address`);
    if (this.closed) return;
    const existing = this.links.get(id);
    if (existing?.address === address) return;
    if (existing) void existing.close();
    this.links.set(id, this.createLink(id, address));
  }

  removePeer(id: number): void {
    const link = this.links.get(id);
    if (!link) return;
    this.links.delete(id);
    void link.close();
  }

  setFaultFilter(filter: TransportFaultFilter | undefined): void {
    this.gate.setFilter(filter);
  }

  status(): TransportStatus {
    return {
      localId: this.localId,
      peers: [...this.links.values()].map((link) => link.status()).sort((a, b) => a.id - b.id),
      unknownPeerDropped: this.unknownPeerDropped,
      inbound: {
        received: this.inbound.received,
        rejected: this.inbound.rejected,
        handlerErrors: this.inbound.handlerErrors,
        brokenSnapshots: this.inbound.brokenSnapshots,
        refusedCalls: this.inbound.refusedCalls,
      },
      faults: { dropped: this.gate.dropped, delayed: this.gate.delayed },
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.gate.close();
    this.inbound.close();
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all([...links.map((link) => link.close()), this.release()]);
  }

  /** Opens the connection to a peer. */
  protected abstract createLink(id: number, address: string): Link;

  /** Links call this once per snapshot message they were given. */
  protected reportSnapshot(peer: number, outcome: SnapshotOutcome): void {
    if (!this.closed) this.snapshotReport?.(peer, outcome);
  }

  protected linkTo(id: number): Link | undefined {
    return this.links.get(id);
  }

  /** Releases what the concrete transport holds besides its peer links. */
  protected abstract release(): Promise<void>;

  private route(messages: readonly raftV1.Message[]): void {
    if (this.closed) return;
    for (const message of messages) {
      const link = this.links.get(message.to);
      if (link) {
        link.enqueue(message);
      } else {
        this.unknownPeerDropped += 1;
        this.lost(message);
      }
    }
  }

  /** A message that will never leave: if it was a snapshot, the leader must hear so. */
  private lost(message: raftV1.Message): void {
    if (message.type === raftV1.MessageType.MESSAGE_TYPE_SNAPSHOT) {
      this.reportSnapshot(message.to, 'failed');
    }
  }
}

export function requirePositiveInteger(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
}
