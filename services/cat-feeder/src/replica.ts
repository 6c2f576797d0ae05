// The Raft driver of one cat-feeder replica: it owns the loop that turns the pure core's Readies
// into I/O in the order ARCHITECTURE.md rule 2 requires (persist, then send, then apply), batches
// proposals and linearizable reads, and tells waiting requests how their writes and reads ended.
import { catfeederStorageV1 } from '@catmesh/proto';
import {
  decodeConfChangeEntry,
  type Entry,
  type RaftNode,
  type RaftStatus,
  type Ready,
  type Role,
  type StepRejectionReason,
} from '@catmesh/raft';
import type { RaftStorage } from '@catmesh/raft/storage';
import { messageFromProto, messageToProto, type RaftTransport } from '@catmesh/raft/transport';
import type { raftV1 } from '@catmesh/proto';
import type { Logger } from '@catmesh/runtime';
import {
  forwardKey,
  ForwardedWrites,
  type ForwardedWrite,
  type SentForward,
} from './forwarded-writes.js';
import type { ApplyOutcome, KvStore } from './kv-store.js';
import {
  ForwardLostError,
  NotLeaderError,
  OverloadedError,
  ProposalDroppedError,
  ReplicaStoppedError,
} from './replica-errors.js';
import type { WatchHub } from './watch-hub.js';

/** Writes waiting to commit at most; beyond it proposals are refused (the core has no cap). */
const MAX_PENDING_WRITES = 16_384;

type Command = catfeederStorageV1.Command;

/** What the replica reports as it runs, for metrics and traces. */
export interface ReplicaObserver {
  roleChanged?(role: Role, leader: number, term: number): void;
  /** A proposal batch of `size` commands was appended by this leader. */
  proposed?(size: number): void;
  /** A batch of `size` writes was sent by this follower to the leader. */
  forwarded?(size: number): void;
  /** A command committed and was applied here; `events` are its changes (none if it changed nothing). */
  applied?(index: number, command: Command, outcome: ApplyOutcome): void;
  snapshotTaken?(index: number): void;
  snapshotInstalled?(index: number): void;
  /** Raft refused a peer's message (not a member, or malformed). */
  messageRejected?(reason: StepRejectionReason): void;
}

export interface ReplicaOptions {
  readonly node: RaftNode;
  readonly storage: RaftStorage;
  readonly transport: RaftTransport;
  readonly store: KvStore;
  readonly watchHub: WatchHub;
  readonly logger: Logger;
  readonly tickMs: number;
  readonly electionTicks: number;
  /** Take a snapshot (and compact the WAL) after this many applied entries. */
  readonly snapshotEntries: number;
  /** Addresses of the founding members (CATMESH_PEERS); conf changes add to them. */
  readonly founders: ReadonlyMap<number, string>;
  readonly observer?: ReplicaObserver;
  /** Storage failed: the replica cannot go on safely, so the process should stop. */
  readonly onFatal: (error: unknown) => void;
}

interface PendingProposal {
  readonly data: Uint8Array;
  readonly resolve: (outcome: ApplyOutcome) => void;
  readonly reject: (error: Error) => void;
}

interface AwaitedEntry {
  readonly term: number;
  readonly resolve: (outcome: ApplyOutcome) => void;
  readonly reject: (error: Error) => void;
}

interface ReadWaiter {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

interface ReadRound {
  readonly context: string;
  readonly waiters: ReadWaiter[];
}

interface AppliedWaiter {
  readonly index: number;
  readonly resolve: () => void;
}

export class Replica {
  private readonly node: RaftNode;
  private readonly opts: ReplicaOptions;
  private ticker: NodeJS.Timeout | undefined;
  private lastTickAt = 0;
  private scheduled = false;
  private running = false;
  private stopped = false;
  private appliedIndex: number;
  private snapshotIndex: number;

  private proposals: PendingProposal[] = [];
  private readonly awaited = new Map<number, AwaitedEntry>();
  /** Writes to forward to the leader at the next turn, and those sent, by request id. */
  private forwards: ForwardedWrite[] = [];
  private readonly forwarded = new ForwardedWrites();
  /** The last forward sent, until the leader is seen appending (see flushForwards). */
  private forwardInFlight: { readonly leader: number; readonly tick: number } | undefined;
  /** The ReadIndex request in flight, and the reads that arrived after it was sent. */
  private readRound: ReadRound | undefined;
  private nextReaders: ReadWaiter[] = [];
  private readSeq = 0;
  private readRoundStartedTick = 0;
  private ticks = 0;
  private appliedWaiters: AppliedWaiter[] = [];
  private leaderWaiters: { readonly leader: number; readonly resolve: () => void }[] = [];

  constructor(options: ReplicaOptions) {
    this.opts = options;
    this.node = options.node;
    const status = this.node.status();
    this.id = status.id;
    this.appliedIndex = status.applied;
    this.snapshotIndex = status.firstIndex - 1;
    for (const [id, address] of this.addressBook()) {
      if (id !== status.id) options.transport.updatePeer(id, address);
    }
    options.transport.onReceive((messages) => this.receive(messages));
    // Until the follower has the whole snapshot the leader sends it nothing else; a failed send
    // puts it back to probing, which sends the snapshot again (etcd-io/raft's ReportSnapshot).
    options.transport.onSnapshotReport((peer, outcome) => {
      if (this.stopped) return;
      if (outcome === 'failed') {
        this.opts.logger.warn({ peer }, 'a snapshot did not reach its follower; sending it again');
      }
      this.node.reportSnapshot(peer, outcome);
      this.schedule();
    });
  }

  /** This replica's id (status() builds the whole progress table: too much for a getter). */
  readonly id: number;

  get role(): Role {
    return this.node.role;
  }

  get leader(): number {
    return this.node.leader;
  }

  get term(): number {
    return this.node.term;
  }

  get commitIndex(): number {
    return this.node.commitIndex;
  }

  get applied(): number {
    return this.appliedIndex;
  }

  status(): RaftStatus {
    return this.node.status();
  }

  /** Member id → address, founders first, then those added by configuration changes. */
  addressBook(): Map<number, string> {
    return new Map([...this.opts.founders, ...this.opts.store.memberAddresses()]);
  }

  start(): void {
    this.lastTickAt = performance.now();
    this.ticker = setInterval(() => this.catchUpTicks(), this.opts.tickMs);
    this.schedule();
  }

  /**
   * Ticks Raft once per tickMs of real (monotonic) time since the last tick. A timer callback
   * can come late, or many intervals late after the process was paused or starved; counting
   * callbacks instead of time would let a leader believe its lease outlived a pause.
   */
  private catchUpTicks(): void {
    const due = Math.floor((performance.now() - this.lastTickAt) / this.opts.tickMs);
    if (due <= 0) return;
    this.lastTickAt += due * this.opts.tickMs;
    // Past a few election timeouts more ticks change nothing: every timer has fired by then.
    for (let i = 0; i < Math.min(due, 4 * this.opts.electionTicks); i++) {
      this.ticks += 1;
      this.node.tick();
    }
    this.retryStalledRead();
    this.expireForwards();
    this.schedule();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.ticker);
    const stopped = new ReplicaStoppedError();
    for (const p of this.proposals) p.reject(stopped);
    this.proposals = [];
    for (const a of this.awaited.values()) a.reject(stopped);
    this.awaited.clear();
    for (const f of this.forwards) f.reject(stopped);
    this.forwards = [];
    this.forwarded.fail(() => stopped);
    this.failReads(stopped);
    await this.opts.transport.close();
    await this.opts.storage.close();
  }

  /**
   * Replicates a write through the log and resolves with what applying it did here. The leader
   * appends it; a follower sends it to the leader over the Raft stream and waits to apply it,
   * which needs its request id to recognise it. Without a leader, or on a follower for a
   * command without a request id, this rejects with NotLeaderError; a forwarded write whose
   * fate this replica cannot see rejects with ForwardLostError (both safe to retry).
   */
  propose(command: Command): Promise<ApplyOutcome> {
    if (this.stopped) return Promise.reject(new ReplicaStoppedError());
    const waiting =
      this.awaited.size + this.proposals.length + this.forwards.length + this.forwarded.size;
    if (waiting >= MAX_PENDING_WRITES) {
      return Promise.reject(new OverloadedError(MAX_PENDING_WRITES));
    }
    const leads = this.node.role === 'leader';
    if (!leads && (this.node.leader === 0 || command.requestId === undefined)) {
      return Promise.reject(new NotLeaderError(this.node.leader));
    }
    const data = catfeederStorageV1.Command.encode(command).finish();
    return new Promise((resolve, reject) => {
      if (leads) this.proposals.push({ data, resolve, reject });
      else this.forwards.push({ key: forwardKey(command.requestId!), data, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Resolves once this replica's state reflects every write committed before the call (§6.4
   * ReadIndex): the read that follows is linearizable. Reads arriving together share one round
   * of leader confirmation; a read never joins a round that started before it arrived.
   */
  linearizableBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new ReplicaStoppedError());
    return new Promise((resolve, reject) => {
      this.nextReaders.push({ resolve, reject });
      this.schedule();
    });
  }

  /**
   * Resolves once this leader's lease guarantees no other leader can have committed anything it
   * has not, and its state has caught up with its commit index (§6.4.1). Faster than ReadIndex,
   * but it trusts clocks to run at the same rate; off the leader it is refused.
   */
  leaseBarrier(): Promise<void> {
    if (this.stopped) return Promise.reject(new ReplicaStoppedError());
    if (this.node.role !== 'leader') return Promise.reject(new NotLeaderError(this.node.leader));
    // Time that passed unseen (a pause, a starved event loop) must count before the lease does:
    // I/O callbacks can run before the timer that would have ticked.
    this.catchUpTicks();
    // Without a valid lease (just elected, or cut off from a quorum) fall back to ReadIndex.
    if (!this.node.hasValidLease()) return this.linearizableBarrier();
    return this.waitApplied(this.node.commitIndex);
  }

  transferLeadership(to: number): ReturnType<RaftNode['transferLeadership']> {
    const result = this.node.transferLeadership(to);
    this.schedule();
    return result;
  }

  proposeConfChange(
    change: Parameters<RaftNode['proposeConfChange']>[0],
  ): ReturnType<RaftNode['proposeConfChange']> {
    const result = this.node.proposeConfChange(change);
    this.schedule();
    return result;
  }

  // ---- The loop ------------------------------------------------------------------------------

  private receive(messages: readonly raftV1.Message[]): void {
    if (this.stopped) return;
    for (const wire of messages) {
      try {
        const result = this.node.step(messageFromProto(wire));
        if (!result.ok) {
          this.opts.logger.warn(
            { from: wire.from, reason: result.reason, detail: result.detail },
            'refused a Raft message',
          );
          this.opts.observer?.messageRejected?.(result.reason);
        }
      } catch (error) {
        this.opts.logger.warn({ err: error, from: wire.from }, 'dropped a Raft message');
      }
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      this.flushProposals();
      this.flushForwards();
      this.startReadRound();
      while (!this.stopped && this.node.hasReady()) {
        const ready = this.node.ready();
        await this.handle(ready);
        this.node.advance(ready);
        await this.maybeSnapshot();
        this.flushProposals();
        this.flushForwards();
        this.startReadRound();
      }
    } catch (error) {
      this.opts.onFatal(error);
      return;
    } finally {
      this.running = false;
    }
    if (this.node.hasReady()) this.schedule();
  }

  private async handle(ready: Ready): Promise<void> {
    if (ready.softState) {
      const { role, leader } = ready.softState;
      this.opts.logger.info({ role, leader, term: this.node.term }, 'raft role changed');
      this.opts.observer?.roleChanged?.(role, leader, this.node.term);
      if (role !== 'leader') this.failProposalsNotYetAppended(new NotLeaderError(leader));
      // What went to the old leader may be lost with it: the writers propose again.
      this.forwarded.fail((f) => new ForwardLostError(f.leader, 'was sent before a leader change'));
      this.leaderWaiters = this.leaderWaiters.filter((w) => {
        if (w.leader === leader) w.resolve();
        return w.leader !== leader;
      });
    }
    // A leader replicates while it writes its own log (§10.2.1): the core counts its copy only
    // after advance(), so these messages promise nothing that is still being written.
    const sendFirst = ready.sendBeforePersisting && ready.messages.length > 0;
    if (sendFirst) this.opts.transport.send(ready.messages.map(messageToProto));
    // The commit index alone need not be durable (it is re-learned from the leader), so a Ready
    // that only advances it skips the fsync.
    if (ready.mustSync || ready.snapshot) {
      await this.opts.storage.save({
        ...(ready.hardState ? { hardState: ready.hardState } : {}),
        ...(ready.snapshot ? { snapshot: ready.snapshot } : {}),
        entries: ready.entries,
      });
    }
    for (const entry of ready.entries) this.learnAddress(entry);
    // The leader appended again: what was forwarded before has most likely reached it.
    if (ready.entries.length > 0) this.forwardInFlight = undefined;
    if (!sendFirst && ready.messages.length > 0) {
      this.opts.transport.send(ready.messages.map(messageToProto));
    }
    if (ready.snapshot) this.installSnapshot(ready.snapshot.metadata.index, ready.snapshot.data);
    for (const entry of ready.committedEntries) this.apply(entry);
    for (const state of ready.readStates) this.finishReadRound(state.context, state.index);
  }

  private flushProposals(): void {
    if (this.proposals.length === 0) return;
    const batch = this.proposals;
    this.proposals = [];
    const result = this.node.proposeBatch(batch.map((p) => p.data));
    if (!result.ok) {
      const error = new NotLeaderError(result.reason === 'not-leader' ? result.leader : 0);
      for (const p of batch) p.reject(error);
      return;
    }
    this.opts.observer?.proposed?.(batch.length);
    batch.forEach((p, i) => {
      this.awaited.set(result.firstIndex + i, {
        term: result.term,
        resolve: p.resolve,
        reject: p.reject,
      });
    });
  }

  /**
   * Sends the writes gathered on this follower to the leader, as one message where they fit.
   * One forward is in flight at a time, until the leader's next append arrives (or a tick has
   * passed): writes that come meanwhile go together in the next one, as a group commit does,
   * so a busy follower sends the leader a few large batches instead of many small ones.
   */
  private flushForwards(): void {
    if (this.forwards.length === 0) return;
    const inFlight = this.forwardInFlight;
    if (
      inFlight !== undefined &&
      inFlight.leader === this.node.leader &&
      this.ticks - inFlight.tick < 1 &&
      this.node.role !== 'leader'
    ) {
      return;
    }
    const batch = this.forwards;
    this.forwards = [];
    const result = this.node.forwardBatch(batch.map((f) => f.data));
    if (!result.ok) {
      if (result.reason === 'is-leader') {
        // Elected since they arrived: they are this leader's own proposals now.
        this.proposals.push(...batch);
        this.flushProposals();
      } else {
        const error = new NotLeaderError(0);
        for (const f of batch) f.reject(error);
      }
      return;
    }
    this.forwardInFlight = { leader: result.leader, tick: this.ticks };
    for (const f of batch)
      this.forwarded.add({ ...f, leader: result.leader, sentTick: this.ticks });
    this.opts.observer?.forwarded?.(batch.length);
  }

  /**
   * A forward not applied within an election timeout was probably lost (a dropped message, a
   * leader that stepped down unseen): its writer proposes it again rather than wait it out.
   */
  private expireForwards(): void {
    const waitedMs = this.opts.electionTicks * this.opts.tickMs;
    this.forwarded.fail(
      (f) => new ForwardLostError(f.leader, `was not applied within ${waitedMs} ms`),
      (f: SentForward) => this.ticks - f.sentTick >= this.opts.electionTicks,
    );
  }

  private failProposalsNotYetAppended(error: Error): void {
    for (const p of this.proposals) p.reject(error);
    this.proposals = [];
  }

  private apply(entry: Entry): void {
    if (entry.index <= this.appliedIndex) return;
    if (entry.type === 'conf-change') {
      this.applyConfChange(entry);
    } else if (entry.data.byteLength > 0) {
      this.applyCommand(entry);
    }
    this.appliedIndex = entry.index;
    this.wakeAppliedWaiters();
  }

  private applyCommand(entry: Entry): void {
    const command = catfeederStorageV1.Command.decode(entry.data);
    const outcome = this.opts.store.apply(entry.index, command);
    if (outcome.kind === 'applied' && outcome.events.length > 0) {
      this.opts.watchHub.publish(outcome.events);
    }
    this.opts.observer?.applied?.(entry.index, command, outcome);
    if (command.requestId) this.forwarded.settle(command.requestId, outcome);
    const waiting = this.awaited.get(entry.index);
    if (!waiting) return;
    this.awaited.delete(entry.index);
    // Another leader's entry at this index means ours was overwritten before it committed.
    if (waiting.term === entry.term) waiting.resolve(outcome);
    else waiting.reject(new ProposalDroppedError(entry.index));
  }

  private applyConfChange(entry: Entry): void {
    const { change } = decodeConfChangeEntry(entry.data);
    if (!change) return;
    if (change.type === 'remove') {
      this.opts.store.setMemberAddress(change.node, undefined);
    } else if (change.context && change.context.byteLength > 0) {
      this.opts.store.setMemberAddress(change.node, Buffer.from(change.context).toString('utf8'));
    }
  }

  /** A configuration applies when appended (§4.1): reach a new member at once. */
  private learnAddress(entry: Entry): void {
    if (entry.type !== 'conf-change') return;
    const { change } = decodeConfChangeEntry(entry.data);
    if (!change || change.node === this.id) return;
    if (change.type === 'remove') {
      this.opts.transport.removePeer(change.node);
    } else if (change.context && change.context.byteLength > 0) {
      this.opts.transport.updatePeer(change.node, Buffer.from(change.context).toString('utf8'));
    }
  }

  private installSnapshot(index: number, data: Uint8Array): void {
    this.opts.store.restore(data);
    this.opts.watchHub.reset(this.opts.store.revision);
    for (const [id, address] of this.addressBook()) {
      if (id !== this.id) this.opts.transport.updatePeer(id, address);
    }
    // Writes this replica was waiting on are inside the snapshot or lost: it cannot tell which.
    for (const [i, waiting] of this.awaited) {
      if (i <= index) {
        waiting.reject(new ProposalDroppedError(i));
        this.awaited.delete(i);
      }
    }
    this.forwarded.fail((f) => new ForwardLostError(f.leader, 'may be inside a snapshot'));
    this.appliedIndex = index;
    this.snapshotIndex = index;
    this.opts.logger.info({ index, revision: this.opts.store.revision }, 'installed a snapshot');
    this.opts.observer?.snapshotInstalled?.(index);
    this.wakeAppliedWaiters();
  }

  private async maybeSnapshot(): Promise<void> {
    if (this.appliedIndex - this.snapshotIndex < this.opts.snapshotEntries) return;
    const index = this.appliedIndex;
    const snapshot = this.node.compact(index, this.opts.store.snapshot());
    this.snapshotIndex = index;
    await this.opts.storage.save({ snapshot });
    await this.opts.storage.compact(index);
    this.opts.logger.info({ index }, 'took a snapshot and compacted the log');
    this.opts.observer?.snapshotTaken?.(index);
  }

  // ---- Reads ---------------------------------------------------------------------------------

  private startReadRound(): void {
    if (this.readRound || this.nextReaders.length === 0) return;
    const context = `${this.id}:${++this.readSeq}`;
    // With no leader known the readers wait (each until its own deadline) for one to emerge.
    if (!this.node.readIndex(Buffer.from(context)).ok) return;
    this.readRound = { context, waiters: this.nextReaders };
    this.readRoundStartedTick = this.ticks;
    this.nextReaders = [];
  }

  private finishReadRound(context: Uint8Array, index: number): void {
    const round = this.readRound;
    if (!round || Buffer.from(context).toString() !== round.context) return;
    this.readRound = undefined;
    const done = this.waitApplied(index);
    for (const r of round.waiters) void done.then(r.resolve);
    this.schedule();
  }

  /**
   * A ReadIndex request or its answer can be lost (leader change, dropped message); after an
   * election timeout's worth of ticks the round is asked again, under a new context.
   */
  private retryStalledRead(): void {
    const round = this.readRound;
    if (!round || this.ticks - this.readRoundStartedTick < this.opts.electionTicks) return;
    this.readRound = undefined;
    this.nextReaders = [...round.waiters, ...this.nextReaders];
  }

  private failReads(error: Error): void {
    for (const r of this.readRound?.waiters ?? []) r.reject(error);
    for (const r of this.nextReaders) r.reject(error);
    this.readRound = undefined;
    this.nextReaders = [];
  }

  /** Resolves once this replica knows `leader` as the leader (the caller bounds the wait). */
  waitForLeader(leader: number): Promise<void> {
    if (this.node.leader === leader) return Promise.resolve();
    return new Promise((resolve) => this.leaderWaiters.push({ leader, resolve }));
  }

  /** Resolves once this replica has applied the entry at `index`. */
  waitApplied(index: number): Promise<void> {
    if (this.appliedIndex >= index) return Promise.resolve();
    return new Promise((resolve) => this.appliedWaiters.push({ index, resolve }));
  }

  private wakeAppliedWaiters(): void {
    if (this.appliedWaiters.length === 0) return;
    const still: AppliedWaiter[] = [];
    for (const w of this.appliedWaiters) {
      if (w.index <= this.appliedIndex) w.resolve();
      else still.push(w);
    }
    this.appliedWaiters = still;
  }
}
