// A synchronous in-memory cluster for unit tests: every replica's Ready is persisted to a map,
// its messages queued, its committed entries recorded; deliverAll() runs the queue to quiescence
// through a filter that can drop messages (partitions, losses) or let tests inspect them.
import {
  RaftNode,
  type Entry,
  type HardState,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Ready,
  type Snapshot,
} from '../../src/core/index.js';
import { createPrng } from '@catmesh/faults';

export function text(data: Uint8Array): string {
  return new TextDecoder().decode(data);
}

export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export interface StoredState {
  hardState: HardState;
  snapshot: Snapshot | undefined;
  entries: Entry[];
}

export type NodeOptions = Partial<Omit<RaftConfig, 'id'>>;

/** A replica with test defaults: electionTick 10, heartbeatTick 1, seeded randomness. */
export function newNode(id: NodeId, options: NodeOptions = {}): RaftNode {
  const prng = createPrng(id);
  return new RaftNode({
    id,
    electionTick: 10,
    heartbeatTick: 1,
    random: () => prng.next(),
    ...options,
  });
}

/**
 * Stored state holding a log with the given entry terms (index 1..n) and a membership recorded
 * in an index-0 snapshot, for building the logs of the paper's figures.
 */
export function storedLog(
  terms: readonly number[],
  hard: Partial<HardState> & { voters: readonly NodeId[]; learners?: readonly NodeId[] },
): StoredState {
  const entries: Entry[] = terms.map((term, i) => ({
    term,
    index: i + 1,
    type: 'normal',
    data: bytes(`e${i + 1}@${term}`),
  }));
  return {
    hardState: {
      term: hard.term ?? terms[terms.length - 1] ?? 0,
      vote: hard.vote ?? 0,
      commit: hard.commit ?? 0,
    },
    snapshot: {
      metadata: {
        index: 0,
        term: 0,
        confState: { voters: [...hard.voters], learners: [...(hard.learners ?? [])] },
      },
      data: new Uint8Array(0),
    },
    entries,
  };
}

/** Takes and acknowledges one Ready (as if persisted, sent and applied). */
export function drain(node: RaftNode): Ready | undefined {
  if (!node.hasReady()) return undefined;
  const ready = node.ready();
  node.advance(ready);
  return ready;
}

export class MemoryCluster {
  readonly nodes = new Map<NodeId, RaftNode>();
  readonly storage = new Map<NodeId, StoredState>();
  readonly applied = new Map<NodeId, Entry[]>();
  readonly readStates = new Map<NodeId, ReadState[]>();
  /** Every message taken off the queue, delivered or not. */
  readonly trace: Message[] = [];
  /** Messages for which this returns false are dropped. */
  filter: (m: Message) => boolean = () => true;
  private queue: Message[] = [];

  constructor(
    readonly voters: readonly NodeId[],
    private readonly options: NodeOptions = {},
    learners: readonly NodeId[] = [],
    /** Replicas that start from this state instead of bootstrapping. */
    initial: ReadonlyMap<NodeId, StoredState> = new Map(),
  ) {
    for (const id of [...voters, ...learners]) {
      const stored = initial.get(id);
      this.storage.set(
        id,
        stored ?? { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: undefined, entries: [] },
      );
      this.start(id, stored ? undefined : { voters, learners });
    }
  }

  node(id: NodeId): RaftNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`node ${id} is down`);
    return n;
  }

  /** Starts (or restarts) a replica from what it persisted. */
  start(id: NodeId, bootstrap?: { voters: readonly NodeId[]; learners: readonly NodeId[] }): void {
    const s = this.storage.get(id) ?? {
      hardState: { term: 0, vote: 0, commit: 0 },
      snapshot: undefined,
      entries: [],
    };
    this.storage.set(id, s);
    this.applied.set(id, []);
    this.readStates.set(id, []);
    this.nodes.set(
      id,
      newNode(id, {
        ...this.options,
        storage: { hardState: s.hardState, snapshot: s.snapshot, entries: s.entries },
        bootstrap,
      }),
    );
  }

  /** Stops a replica: it keeps only what it persisted; messages to it are lost. */
  crash(id: NodeId): void {
    this.nodes.delete(id);
  }

  /** Persists, queues and applies every pending Ready, until none is left. */
  processReadies(): void {
    for (const [id, n] of this.nodes) {
      while (n.hasReady()) {
        const ready = n.ready();
        this.persist(id, ready);
        this.queue.push(...ready.messages);
        this.applied.get(id)!.push(...ready.committedEntries);
        this.readStates.get(id)!.push(...ready.readStates);
        n.advance(ready);
      }
    }
  }

  private persist(id: NodeId, ready: Ready): void {
    const s = this.storage.get(id)!;
    if (ready.snapshot !== undefined) {
      s.snapshot = ready.snapshot;
      s.entries = [];
    }
    const first = ready.entries[0];
    if (first !== undefined) {
      s.entries = s.entries.filter((e) => e.index < first.index).concat(ready.entries);
    }
    if (ready.hardState !== undefined) s.hardState = ready.hardState;
  }

  /** Delivers queued messages (and those they cause) until the cluster is quiet. */
  deliverAll(limit = 100_000): void {
    this.processReadies();
    let steps = 0;
    while (this.queue.length > 0) {
      if (++steps > limit) throw new Error('deliverAll: messages never stop');
      const m = this.queue.shift()!;
      this.trace.push(m);
      const dest = this.nodes.get(m.to);
      if (dest !== undefined && this.filter(m)) dest.step(m);
      this.processReadies();
    }
  }

  /** Takes the queued messages without delivering them. */
  takeQueued(): Message[] {
    this.processReadies();
    const q = this.queue;
    this.queue = [];
    return q;
  }

  tick(ids: readonly NodeId[], times = 1): void {
    for (let i = 0; i < times; i++) {
      for (const id of ids) this.nodes.get(id)?.tick();
      this.deliverAll();
    }
  }

  tickAll(times = 1): void {
    this.tick([...this.nodes.keys()], times);
  }

  /** Ticks only `id` until it campaigns, then lets the election play out. */
  elect(id: NodeId): void {
    const n = this.node(id);
    for (let i = 0; i < 100 && n.role !== 'leader'; i++) this.tick([id]);
    if (n.role !== 'leader') throw new Error(`node ${id} did not become leader (${n.role})`);
  }

  leaderId(): NodeId | undefined {
    for (const [id, n] of this.nodes) if (n.role === 'leader') return id;
    return undefined;
  }

  /** Applied normal entries with data, as text, on `id`. */
  appliedText(id: NodeId): string[] {
    return this.applied
      .get(id)!
      .filter((e) => e.type === 'normal' && e.data.byteLength > 0)
      .map((e) => text(e.data));
  }

  isolate(id: NodeId): void {
    this.filter = (m) => m.from !== id && m.to !== id;
  }

  heal(): void {
    this.filter = () => true;
  }
}
