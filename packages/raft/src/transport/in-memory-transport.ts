// RaftTransports connected by an in-process network, for service-level tests that want no
// sockets: same interface, same queues, filter and counters as the gRPC transport, plus knobs to
// partition the network and lose messages.
import { raftV1 } from '@catmesh/proto';
import { BoundedQueue } from './bounded-queue.js';
import { takeBatch } from './message-batch.js';
import {
  PeerTransport,
  requirePositiveInteger,
  type PeerLink,
  type PeerTransportOptions,
} from './peer-transport.js';
import type { PeerStatus, SnapshotOutcome } from './transport.js';

export interface InMemoryRaftNetworkOptions {
  /** Source of randomness for message loss, in [0, 1). Default Math.random; seed it for replays. */
  readonly random?: () => number;
}

export interface InMemoryTransportOptions extends PeerTransportOptions {
  /** Messages queued per peer; beyond it the oldest are dropped. Default 1024. */
  readonly queueCapacity?: number;
  /** Messages handed over per delivery; the next waits until the receiver has taken them. Default 64. */
  readonly maxBatchMessages?: number;
}

/**
 * The network: transports attach to it by Raft id. Peers still need `updatePeer(id, address)`
 * (any address; the network routes by id), exactly as with gRPC.
 */
export class InMemoryRaftNetwork {
  private readonly attached = new Map<number, InMemoryRaftTransport>();
  /** Node id → partition group; undefined when the network is whole. */
  private groups: Map<number, number> | undefined;
  private readonly blocked = new Set<string>();
  private lossRate = 0;
  private readonly random: () => number;

  constructor(options: InMemoryRaftNetworkOptions = {}) {
    this.random = options.random ?? Math.random;
  }

  /** Creates the transport of node `options.localId` and attaches it to this network. */
  connect(options: InMemoryTransportOptions): InMemoryRaftTransport {
    if (this.attached.has(options.localId)) {
      throw new RangeError(`node ${options.localId} is already attached to this network`);
    }
    const transport = new InMemoryRaftTransport(this, options);
    this.attached.set(transport.localId, transport);
    for (const other of this.attached.values()) other.peerAttached(transport.localId);
    return transport;
  }

  /**
   * Splits the network: a message passes only between nodes of the same group; a node in no
   * group is cut off from everyone. Replaces the previous partition.
   */
  partition(...groups: readonly (readonly number[])[]): void {
    this.groups = new Map(groups.flatMap((group, index) => group.map((id) => [id, index])));
  }

  /** Cuts the one-way link `from` → `to` (an asymmetric partition). */
  blockLink(from: number, to: number): void {
    this.blocked.add(`${from}->${to}`);
  }

  /** Each message is lost with this probability (0 to 1). */
  setLossRate(rate: number): void {
    if (!(rate >= 0 && rate <= 1)) throw new RangeError(`loss rate must be in [0, 1], got ${rate}`);
    this.lossRate = rate;
  }

  /** Removes partitions, blocked links and loss. */
  heal(): void {
    this.groups = undefined;
    this.blocked.clear();
    this.lossRate = 0;
  }

  /** Whether the network carries one message from `from` to `to` now (loss is drawn per call). */
  carries(from: number, to: number): boolean {
    if (this.groups !== undefined) {
      const group = this.groups.get(from);
      if (group === undefined || group !== this.groups.get(to)) return false;
    }
    if (this.blocked.has(`${from}->${to}`)) return false;
    return this.lossRate === 0 || this.random() >= this.lossRate;
  }

  /** The attached transport of node `id`; undefined while that node is down. */
  transportOf(id: number): InMemoryRaftTransport | undefined {
    return this.attached.get(id);
  }

  /** Called by a transport as it closes: its node is down until a transport attaches again. */
  detach(transport: InMemoryRaftTransport): void {
    if (this.attached.get(transport.localId) !== transport) return;
    this.attached.delete(transport.localId);
    for (const other of this.attached.values()) other.peerDetached(transport.localId);
  }
}

interface InMemoryLinkSettings {
  readonly queueCapacity: number;
  readonly maxBatchMessages: number;
}

export class InMemoryRaftTransport extends PeerTransport<InMemoryPeerLink> {
  private readonly settings: InMemoryLinkSettings;

  /** Use InMemoryRaftNetwork.connect(). */
  constructor(
    private readonly network: InMemoryRaftNetwork,
    options: InMemoryTransportOptions,
  ) {
    super(options);
    this.settings = {
      queueCapacity: options.queueCapacity ?? 1024,
      maxBatchMessages: options.maxBatchMessages ?? 64,
    };
    requirePositiveInteger('queueCapacity', this.settings.queueCapacity);
    requirePositiveInteger('maxBatchMessages', this.settings.maxBatchMessages);
  }

  /** Called by the network with a batch from a peer; resolves when the handler has taken it. */
  receiveFromNetwork(messages: readonly raftV1.Message[]): Promise<void> {
    return this.inbound.deliver(messages);
  }

  peerAttached(id: number): void {
    this.linkTo(id)?.wake();
  }

  peerDetached(id: number): void {
    this.linkTo(id)?.peerLost();
  }

  protected createLink(id: number, address: string): InMemoryPeerLink {
    return new InMemoryPeerLink(this.localId, id, address, this.network, this.settings, (outcome) =>
      this.reportSnapshot(id, outcome),
    );
  }

  protected release(): Promise<void> {
    this.network.detach(this);
    return Promise.resolve();
  }
}

class InMemoryPeerLink implements PeerLink {
  private readonly queue: BoundedQueue<raftV1.Message>;
  private pumpScheduled: NodeJS.Immediate | undefined;
  private delivering = false;
  private wasConnected = false;
  private closed = false;
  private inFlight = 0;
  private sent = 0;
  private batches = 0;
  private dropped = 0;
  private reconnects = 0;
  private snapshotsDelivered = 0;
  private snapshotsFailed = 0;
  private lastSentAt: number | undefined;

  constructor(
    private readonly localId: number,
    private readonly id: number,
    readonly address: string,
    private readonly network: InMemoryRaftNetwork,
    private readonly settings: InMemoryLinkSettings,
    private readonly report: (outcome: SnapshotOutcome) => void,
  ) {
    this.queue = new BoundedQueue(settings.queueCapacity);
    this.wasConnected = network.transportOf(id) !== undefined;
  }

  enqueue(message: raftV1.Message): void {
    if (this.closed) return;
    const oldest = this.queue.length === this.queue.capacity ? this.queue.peek() : undefined;
    if (this.queue.push(message)) {
      this.dropped += 1;
      if (oldest) this.snapshotsEnded([oldest], 'failed');
    }
    this.wake();
  }

  /** Starts delivering what is queued, on a later turn of the event loop (never re-entrantly). */
  wake(): void {
    if (this.closed || this.delivering || this.pumpScheduled) return;
    this.pumpScheduled = setImmediate(() => {
      this.pumpScheduled = undefined;
      void this.pump();
    });
  }

  peerLost(): void {
    if (this.wasConnected) this.reconnects += 1;
    this.wasConnected = false;
  }

  status(): PeerStatus {
    return {
      id: this.id,
      address: this.address,
      connected: !this.closed && this.network.transportOf(this.id) !== undefined,
      lastSentAt: this.lastSentAt,
      queued: this.queue.length,
      inFlight: this.inFlight,
      sent: this.sent,
      batches: this.batches,
      dropped: this.dropped,
      reconnects: this.reconnects,
      redials: 0,
      snapshotsDelivered: this.snapshotsDelivered,
      snapshotsFailed: this.snapshotsFailed,
    };
  }

  close(): Promise<void> {
    this.closed = true;
    clearImmediate(this.pumpScheduled);
    this.queue.clear();
    return Promise.resolve();
  }

  /** Reports the snapshots among `messages`: here a snapshot is one message like any other. */
  private snapshotsEnded(messages: readonly raftV1.Message[], outcome: SnapshotOutcome): void {
    for (const m of messages) {
      if (m.type !== raftV1.MessageType.MESSAGE_TYPE_SNAPSHOT) continue;
      if (outcome === 'delivered') this.snapshotsDelivered += 1;
      else this.snapshotsFailed += 1;
      this.report(outcome);
    }
  }

  private async pump(): Promise<void> {
    this.delivering = true;
    try {
      while (!this.closed && this.queue.length > 0) {
        // An absent peer is a peer that is down: messages wait (bounded) until it attaches.
        const target = this.network.transportOf(this.id);
        if (target === undefined) return;
        this.wasConnected = true;
        const batch = takeBatch(this.queue, this.settings.maxBatchMessages, Infinity);
        const carried = batch.filter(() => this.network.carries(this.localId, this.id));
        this.dropped += batch.length - carried.length;
        this.snapshotsEnded(
          batch.filter((m) => !carried.includes(m)),
          'failed',
        );
        if (carried.length === 0) continue;
        this.inFlight = carried.length;
        this.batches += 1;
        await target.receiveFromNetwork(carried);
        this.snapshotsEnded(carried, 'delivered');
        this.inFlight = 0;
        this.sent += carried.length;
        this.lastSentAt = Date.now();
      }
    } finally {
      this.delivering = false;
    }
  }
}
