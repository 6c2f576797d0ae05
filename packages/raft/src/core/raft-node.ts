// One Raft replica as a pure state machine (the design of etcd-io/raft's RawNode): time enters as
// tick(), messages as step(), commands as propose(); everything the application must persist,
// send and apply comes out of ready(), and advance() acknowledges it. No I/O, no clock, no
// ambient randomness: the same inputs give the same outputs, which the simulator relies on.
import {
  applyConfChange,
  decodeConfChangeEntry,
  encodeConfChangeEntry,
  type ConfChange,
} from './conf-change.js';
import { RaftConfigError, resolveConfig, type RaftConfig, type ResolvedConfig } from './config.js';
import type {
  AppendMessage,
  AppendResponseMessage,
  HeartbeatMessage,
  HeartbeatResponseMessage,
  Message,
  SnapshotMessage,
  VoteMessage,
} from './message.js';
import { Progress, type ProgressState } from './progress.js';
import { hasMajority, majorityValue, voteResult, type VoteResult } from './quorum.js';
import { RaftInvariantError, RaftLog } from './raft-log.js';
import type { ReadState, Ready, Role, SoftState } from './ready.js';
import {
  NONE,
  type ConfState,
  type Entry,
  type EntryType,
  type HardState,
  type NodeId,
  type Snapshot,
} from './types.js';

export type ProposeRejection =
  /** Only the leader takes proposals; `leader` is the known leader or NONE. */
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leader: NodeId }
  /** The leader is handing over to `transferee` and takes no proposals meanwhile (§3.10). */
  | { readonly ok: false; readonly reason: 'transferring'; readonly transferee: NodeId };

export type ProposeResult =
  { readonly ok: true; readonly index: number; readonly term: number } | ProposeRejection;

export type ProposeBatchResult =
  | {
      readonly ok: true;
      readonly firstIndex: number;
      readonly lastIndex: number;
      readonly term: number;
    }
  | ProposeRejection;

/** The leader the commands went to, or why there is none to send them to. */
export type ForwardResult =
  | { readonly ok: true; readonly leader: NodeId }
  | { readonly ok: false; readonly reason: 'no-leader' }
  /** This replica leads: propose here instead. */
  | { readonly ok: false; readonly reason: 'is-leader' };

export type ConfChangeResult =
  | ProposeResult
  /** A previous change, or the leader's first entry of its term, is not committed yet. */
  | { readonly ok: false; readonly reason: 'conf-change-pending' }
  | { readonly ok: false; readonly reason: 'invalid-conf-change'; readonly detail: string };

/**
 * Why step() refused a message. `not-a-member`: the sender is in neither the voters nor the
 * learners of this replica's configuration. `malformed`: the message breaks Raft's rules on its
 * own (entries not consecutive, terms going back, a commit beyond this replica's log), which no
 * correct leader sends; storing it would break the log.
 */
export type StepRejectionReason = 'not-a-member' | 'malformed';

export type StepResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: StepRejectionReason; readonly detail: string };

const STEPPED: StepResult = { ok: true };

export type ReadIndexResult =
  { readonly ok: true } | { readonly ok: false; readonly reason: 'no-leader' };

export type TransferResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leader: NodeId }
  | { readonly ok: false; readonly reason: 'invalid-target'; readonly detail: string };

export interface PeerStatus {
  readonly id: NodeId;
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  /** Append messages sent and not yet acknowledged. */
  readonly inflight: number;
  /** Ticks since a message from this peer last arrived. */
  readonly ticksSinceContact: number;
}

export interface RaftStatus {
  readonly id: NodeId;
  readonly term: number;
  readonly vote: NodeId;
  readonly role: Role;
  readonly leader: NodeId;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly leadTransferee: NodeId;
  /** Membership in effect: that of the last conf-change entry in this replica's log. */
  readonly confState: ConfState;
  /** On the leader, one row per other member; empty elsewhere. */
  readonly progress: readonly PeerStatus[];
  /** Messages step() refused since this replica was created. */
  readonly rejectedMessages: number;
}

type CampaignKind = 'pre-election' | 'election' | 'transfer';

interface PendingRead {
  readonly from: NodeId;
  readonly context: Uint8Array;
  readonly index: number;
  /** Heartbeat round that, acknowledged by a quorum, confirms leadership after the request. */
  readonly round: number;
}

interface OutstandingReady {
  readonly ready: Ready;
  readonly entries: readonly Entry[];
  readonly snapshotIndex: number | undefined;
  readonly appliedTo: number;
}

const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };
const EMPTY_SNAPSHOT: Snapshot = {
  metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
  data: new Uint8Array(0),
};
const EMPTY_DATA = new Uint8Array(0);

function isNodeId(id: NodeId): boolean {
  return Number.isSafeInteger(id) && id > 0;
}

function validIds(field: string, ids: readonly NodeId[]): void {
  for (const id of ids) {
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new RaftConfigError(`${field}: ${id} is not a valid node id`);
    }
  }
}

export class RaftNode {
  readonly id: NodeId;
  private readonly cfg: ResolvedConfig;
  private readonly log: RaftLog;

  private currentTerm = 0;
  private votedFor: NodeId = NONE;
  private state: Role = 'follower';
  private lead: NodeId = NONE;

  private voters: ReadonlySet<NodeId> = new Set();
  private learners: ReadonlySet<NodeId> = new Set();
  /** Index of the conf-change entry (or snapshot) the membership above comes from. */
  private lastConfIndex = 0;

  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;
  /** Ticks since this replica was created (its local clock). */
  private ticks = 0;
  private leadTransferee: NodeId = NONE;

  private heartbeatRound = 0;
  /** Lease mode: the tick at which each unconfirmed heartbeat round was sent. */
  private readonly roundSentTick = new Map<number, number>();
  /** Lease mode: send tick of the latest heartbeat round a quorum acknowledged. */
  private leaseStartTick: number | undefined;
  /** This leader sent TimeoutNow: a forced election may be under way, so the lease is void. */
  private leaseVoid = false;
  private pendingReads: PendingRead[] = [];
  private readsAwaitingCommit: { from: NodeId; context: Uint8Array }[] = [];

  private msgs: Message[] = [];
  private rejectedMessages = 0;
  private readStates: ReadState[] = [];
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: OutstandingReady | undefined;

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    const stored = config.storage;
    const hard = stored?.hardState ?? EMPTY_HARD_STATE;
    const snapshot = stored?.snapshot ?? EMPTY_SNAPSHOT;
    const snapIndex = snapshot.metadata.index;
    const entries = (stored?.entries ?? []).filter((e) => e.index > snapIndex);
    entries.forEach((e, i) => {
      if (e.index !== snapIndex + 1 + i) {
        throw new RaftConfigError(
          `storage.entries: expected index ${snapIndex + 1 + i} after snapshot ${snapIndex}, got ${e.index}`,
        );
      }
    });
    const lastIndex = snapIndex + entries.length;
    const commit = Math.max(hard.commit, snapIndex);
    if (commit > lastIndex) {
      throw new RaftConfigError(
        `storage.hardState.commit: ${hard.commit} is beyond the last stored index ${lastIndex}`,
      );
    }
    const applied = config.applied ?? snapIndex;
    if (!Number.isSafeInteger(applied) || applied < snapIndex || applied > commit) {
      throw new RaftConfigError(
        `applied: must be between the snapshot index ${snapIndex} and commit ${commit}, got ${applied}`,
      );
    }
    this.log = new RaftLog(snapshot, entries, commit, applied);
    this.currentTerm = hard.term;
    this.votedFor = hard.vote;
    this.prevHard = hard;

    const empty = hard.term === 0 && hard.vote === NONE && lastIndex === 0;
    if (empty && config.bootstrap !== undefined) {
      const { voters, learners } = config.bootstrap;
      validIds('bootstrap.voters', voters);
      validIds('bootstrap.learners', learners);
      if (voters.length === 0) throw new RaftConfigError('bootstrap.voters: must not be empty');
      if (learners.some((l) => voters.includes(l))) {
        throw new RaftConfigError('bootstrap.learners: a node cannot be both voter and learner');
      }
      const confState: ConfState = {
        voters: [...new Set(voters)].sort((a, b) => a - b),
        learners: [...new Set(learners)].sort((a, b) => a - b),
      };
      this.currentTerm = 1;
      this.log.append([
        {
          term: 1,
          index: 1,
          type: 'conf-change',
          data: encodeConfChangeEntry({ change: undefined, confState }),
        },
      ]);
      this.log.commitTo(1);
    }
    this.refreshConfig();
    this.becomeFollower(this.currentTerm, NONE);
    this.prevSoft = this.softState();
  }

  // ---- Inputs -------------------------------------------------------------------------------

  /** Advances the logical clock by one tick (election and heartbeat timers count ticks). */
  tick(): void {
    this.ticks++;
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  /**
   * Takes a message from a peer. Messages not addressed to this replica are ignored; messages
   * from outside the configuration, or that no correct peer sends, are refused and counted, and
   * the result says why (the caller logs it).
   */
  step(m: Message): StepResult {
    if (m.to !== this.id || m.from === this.id || m.from === NONE) return STEPPED;
    const refusal = this.malformation(m) ?? this.nonMember(m);
    if (refusal !== undefined) {
      this.rejectedMessages++;
      return refusal;
    }
    this.stepValid(m);
    return STEPPED;
  }

  private stepValid(m: Message): void {
    if (m.term > this.currentTerm) {
      if ((m.type === 'vote' || m.type === 'pre-vote') && !m.transfer && this.inLease()) {
        // §4.2.3: we heard from a leader within the minimum election timeout, so this candidate
        // cannot be needed; ignoring it keeps removed or partitioned servers from disrupting.
        return;
      }
      if (m.type === 'pre-vote' || (m.type === 'pre-vote-response' && !m.reject)) {
        // §9.6: a pre-vote (and a grant of one) carries the term the candidate would use; it
        // must not move anyone's term.
      } else if (m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.currentTerm) {
      if (
        (this.cfg.checkQuorum || this.cfg.preVote) &&
        (m.type === 'append' || m.type === 'heartbeat')
      ) {
        // A stale leader that we (with CheckQuorum/PreVote) would otherwise ignore forever:
        // tell it the current term so it steps down.
        this.send(this.appendResponse(m.from, 0, false));
      } else if (m.type === 'pre-vote') {
        // The pre-candidate learns our higher term and can join it.
        this.send({
          type: 'pre-vote-response',
          from: this.id,
          to: m.from,
          term: this.currentTerm,
          reject: true,
        });
      }
      return;
    }

    if (m.type === 'vote' || m.type === 'pre-vote') {
      this.handleVoteRequest(m);
      return;
    }
    switch (this.state) {
      case 'leader':
        this.stepLeader(m);
        break;
      case 'candidate':
      case 'pre-candidate':
        this.stepCandidate(m);
        break;
      case 'follower':
        this.stepFollower(m);
        break;
    }
  }

  /** Appends a command on the leader; elsewhere returns the leader to forward it to. */
  propose(data: Uint8Array): ProposeResult {
    const rejection = this.proposalRejection();
    if (rejection !== undefined) return rejection;
    const [entry] = this.appendLocal([{ type: 'normal', data }]);
    this.bcastAppend();
    return { ok: true, index: entry!.index, term: this.currentTerm };
  }

  /** Appends several commands as consecutive entries, replicated together. */
  proposeBatch(data: readonly Uint8Array[]): ProposeBatchResult {
    const rejection = this.proposalRejection();
    if (rejection !== undefined) return rejection;
    const firstIndex = this.log.lastIndex + 1;
    this.appendLocal(data.map((d) => ({ type: 'normal', data: d })));
    this.bcastAppend();
    return { ok: true, firstIndex, lastIndex: this.log.lastIndex, term: this.currentTerm };
  }

  /**
   * Sends commands from a follower to the leader it knows (§6.2: a follower redirects clients;
   * here it carries their commands itself, over the Raft stream, instead of a call per request).
   * The leader appends them as its own proposals; nothing confirms that it did. The caller learns
   * the outcome by applying the committed entries and proposes again, with the same idempotency
   * key, if that does not happen in time: the message, or the leader, may be lost.
   */
  forwardBatch(data: readonly Uint8Array[]): ForwardResult {
    if (this.state === 'leader') return { ok: false, reason: 'is-leader' };
    if (this.lead === NONE) return { ok: false, reason: 'no-leader' };
    // Split as appends are, so that no message outgrows what the transport carries.
    let entries: Entry[] = [];
    let bytes = 0;
    const flush = () => {
      if (entries.length === 0) return;
      this.send({ type: 'propose', from: this.id, to: this.lead, term: this.currentTerm, entries });
      entries = [];
      bytes = 0;
    };
    for (const d of data) {
      const full =
        entries.length >= this.cfg.maxEntriesPerMsg ||
        (entries.length > 0 && bytes + d.byteLength > this.cfg.maxBytesPerMsg);
      if (full) flush();
      entries.push({ term: 0, index: 0, type: 'normal', data: d });
      bytes += d.byteLength;
    }
    flush();
    return { ok: true, leader: this.lead };
  }

  /**
   * Proposes one membership change (§4.1). It takes effect on each replica when appended to its
   * log; a next change is refused until this one is committed, and the leader must first have
   * committed an entry of its own term (the fix to single-server changes, dissertation §4.1
   * errata).
   */
  proposeConfChange(change: ConfChange): ConfChangeResult {
    const rejection = this.proposalRejection();
    if (rejection !== undefined) return rejection;
    if (!this.committedInCurrentTerm() || this.lastConfIndex > this.log.committed) {
      return { ok: false, reason: 'conf-change-pending' };
    }
    const outcome = applyConfChange(this.confState(), change);
    if (!outcome.ok) return { ok: false, reason: 'invalid-conf-change', detail: outcome.detail };
    const [entry] = this.appendLocal([
      {
        type: 'conf-change',
        data: encodeConfChangeEntry({ change, confState: outcome.confState }),
      },
    ]);
    this.bcastAppend();
    return { ok: true, index: entry!.index, term: this.currentTerm };
  }

  /**
   * Starts a linearizable read (§6.4). The answer arrives as a ReadState with the same context in
   * a later Ready, on this replica; it may never arrive (leader change, lost message), so the
   * caller retries after a timeout. On a follower the request goes to the leader.
   */
  readIndex(context: Uint8Array): ReadIndexResult {
    if (this.state === 'leader') {
      this.handleReadRequest(this.id, context);
      return { ok: true };
    }
    if (this.lead === NONE) return { ok: false, reason: 'no-leader' };
    this.send({
      type: 'read-index',
      from: this.id,
      to: this.lead,
      term: this.currentTerm,
      context,
    });
    return { ok: true };
  }

  /**
   * Hands leadership to `to` (dissertation §3.10): bring it up to date, then send TimeoutNow.
   * Proposals are refused meanwhile; the transfer is abandoned after an election timeout.
   */
  transferLeadership(to: NodeId): TransferResult {
    if (this.state !== 'leader') return { ok: false, reason: 'not-leader', leader: this.lead };
    if (to === this.id) return { ok: true };
    if (!this.voters.has(to)) {
      return { ok: false, reason: 'invalid-target', detail: `node ${to} is not a voter` };
    }
    const pr = this.progress.get(to)!;
    if (this.leadTransferee === to) {
      // Already under way: the TimeoutNow may have been lost, so a repeated request resends it.
      if (pr.match === this.log.lastIndex) this.sendTimeoutNow(to);
      return { ok: true };
    }
    this.leadTransferee = to;
    // The transfer must finish within one election timeout, counted from now.
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex) this.sendTimeoutNow(to);
    else this.sendAppend(pr, true);
    return { ok: true };
  }

  /** The transport could not reach `to`: optimistic appends to it were probably lost. */
  reportUnreachable(to: NodeId): void {
    const pr = this.state === 'leader' ? this.progress.get(to) : undefined;
    if (pr?.state === 'replicate') pr.becomeProbe();
  }

  /** The transport delivered, or failed to deliver, the snapshot it was sending to `to`. */
  reportSnapshot(to: NodeId, outcome: 'delivered' | 'failed'): void {
    const pr = this.state === 'leader' ? this.progress.get(to) : undefined;
    if (pr?.state !== 'snapshot') return;
    if (outcome === 'failed') pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for the follower's answer (or a heartbeat response) before the next append.
    pr.probeSent = true;
  }

  /**
   * The application's state at `index` (applied, and durable in storage) is `data`: record it as
   * the snapshot and drop the log up to it (§7). Returns the snapshot for storage to persist; the
   * leader sends it to followers that need entries before it.
   */
  compact(index: number, data: Uint8Array): Snapshot {
    if (index <= this.log.snapshotIndex) {
      throw new RangeError(
        `compact: index ${index} is already compacted (${this.log.snapshotIndex})`,
      );
    }
    if (index > this.log.applied || index > this.log.stableIndex) {
      throw new RangeError(
        `compact: index ${index} is not applied and durable yet (applied ${this.log.applied}, durable ${this.log.stableIndex})`,
      );
    }
    const snapshot: Snapshot = {
      metadata: { index, term: this.log.term(index)!, confState: this.confStateAt(index) },
      data,
    };
    this.log.compact(snapshot);
    return snapshot;
  }

  // ---- Outputs ------------------------------------------------------------------------------

  /** Whether ready() has anything; false while a Ready is handed out and not yet advanced. */
  hasReady(): boolean {
    if (this.outstanding !== undefined) return false;
    const soft = this.prevSoft;
    const hard = this.prevHard;
    return (
      soft.leader !== this.lead ||
      soft.role !== this.state ||
      hard.term !== this.currentTerm ||
      hard.vote !== this.votedFor ||
      hard.commit !== this.log.committed ||
      this.log.pendingSnapshot !== undefined ||
      this.log.hasUnstable() ||
      this.log.hasNextCommitted() ||
      this.msgs.length > 0 ||
      this.readStates.length > 0
    );
  }

  /** Everything to persist, send and apply since the last Ready (see ready.ts for the order). */
  ready(): Ready {
    if (this.outstanding !== undefined) {
      throw new Error('ready: the previous Ready has not been advanced');
    }
    const soft = this.softState();
    const hard = this.hardState();
    const softChanged = soft.leader !== this.prevSoft.leader || soft.role !== this.prevSoft.role;
    const prev = this.prevHard;
    const hardChanged =
      hard.term !== prev.term || hard.vote !== prev.vote || hard.commit !== prev.commit;
    const snapshot = this.log.pendingSnapshot;
    const entries = this.log.unstableEntries();
    const committedEntries = this.log.takeCommitted();
    const ready: Ready = {
      softState: softChanged ? soft : undefined,
      hardState: hardChanged ? hard : undefined,
      snapshot,
      entries,
      committedEntries,
      messages: this.msgs,
      readStates: this.readStates,
      mustSync:
        entries.length > 0 ||
        snapshot !== undefined ||
        hard.term !== prev.term ||
        hard.vote !== prev.vote,
      sendBeforePersisting:
        this.state === 'leader' &&
        snapshot === undefined &&
        hard.term === prev.term &&
        hard.vote === prev.vote,
    };
    this.msgs = [];
    this.readStates = [];
    this.prevSoft = soft;
    this.prevHard = hard;
    const lastCommitted = committedEntries[committedEntries.length - 1]?.index ?? 0;
    this.outstanding = {
      ready,
      entries,
      snapshotIndex: snapshot?.metadata.index,
      appliedTo: Math.max(lastCommitted, snapshot?.metadata.index ?? 0),
    };
    return ready;
  }

  /** The application persisted, sent and applied `ready`. */
  advance(ready: Ready): void {
    const o = this.outstanding;
    if (o === undefined || o.ready !== ready) {
      throw new Error('advance: not the Ready last returned by ready()');
    }
    this.outstanding = undefined;
    // Entries replaced while storage wrote them are not durable as they are now; by log
    // matching, those before the last one still in the log are.
    for (let i = o.entries.length - 1; i >= 0; i--) {
      const e = o.entries[i]!;
      if (this.log.matchTerm(e.index, e.term)) {
        this.log.stableTo(e.index, e.term);
        break;
      }
    }
    if (o.snapshotIndex !== undefined) this.log.snapshotStable(o.snapshotIndex);
    this.log.appliedTo(o.appliedTo);
    // Now durable here, the leader's own entries count toward a quorum. Followers that acked
    // first learn the new commit index now, not at the next heartbeat: a follower waiting to
    // apply (a write it forwarded, a read it confirmed) would wait that long.
    if (
      this.state === 'leader' &&
      this.progress.get(this.id)?.maybeUpdate(this.log.stableIndex) &&
      this.maybeCommit()
    ) {
      this.bcastAppend();
      this.stepDownIfRemoved();
    }
  }

  // ---- Inspection ---------------------------------------------------------------------------

  get term(): number {
    return this.currentTerm;
  }

  get role(): Role {
    return this.state;
  }

  get leader(): NodeId {
    return this.lead;
  }

  get commitIndex(): number {
    return this.log.committed;
  }

  /**
   * Whether this leader may answer a read from its own state at its commit index without a
   * heartbeat round (§6.4.1): its lease holds (a quorum acknowledged it less than an election
   * timeout ago, so no other leader can exist) and an entry of its term is committed (so its
   * commit index covers every earlier leader's). Needs the leaseReads option; assumes equal tick
   * rates. Lets a service offer lease reads per request while ReadIndex stays the default.
   */
  hasValidLease(): boolean {
    return (
      this.state === 'leader' &&
      this.cfg.leaseReads &&
      this.committedInCurrentTerm() &&
      (this.voters.size === 1 || this.leaseHolds())
    );
  }

  /** Term of the entry at `index` in this replica's log; undefined if compacted or absent. */
  termAt(index: number): number | undefined {
    return this.log.term(index);
  }

  status(): RaftStatus {
    const progress: PeerStatus[] = [];
    if (this.state === 'leader') {
      for (const pr of this.progress.values()) {
        if (pr.id === this.id) continue;
        progress.push({
          id: pr.id,
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          inflight: pr.inflights.size,
          ticksSinceContact: this.ticks - pr.lastContactTick,
        });
      }
    }
    return {
      id: this.id,
      term: this.currentTerm,
      vote: this.votedFor,
      role: this.state,
      leader: this.lead,
      commit: this.log.committed,
      applied: this.log.applied,
      firstIndex: this.log.firstIndex,
      lastIndex: this.log.lastIndex,
      leadTransferee: this.leadTransferee,
      confState: this.confState(),
      progress,
      rejectedMessages: this.rejectedMessages,
    };
  }

  // ---- Roles --------------------------------------------------------------------------------

  private reset(term: number): void {
    if (this.currentTerm !== term) {
      this.currentTerm = term;
      this.votedFor = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const jitter = Math.floor(this.cfg.random() * this.cfg.electionTick);
    this.randomizedElectionTimeout =
      this.cfg.electionTick + Math.min(Math.max(jitter, 0), this.cfg.electionTick - 1);
    this.leadTransferee = NONE;
    this.votes.clear();
    this.progress.clear();
    for (const id of [...this.voters, ...this.learners]) {
      const pr = new Progress(
        id,
        this.log.lastIndex + 1,
        this.cfg.maxInflightMsgs,
        this.learners.has(id),
        this.ticks,
      );
      if (id === this.id) pr.match = this.log.lastIndex;
      this.progress.set(id, pr);
    }
    this.heartbeatRound = 0;
    this.roundSentTick.clear();
    this.leaseStartTick = undefined;
    this.leaseVoid = false;
    this.pendingReads = [];
    this.readsAwaitingCommit = [];
  }

  private becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.state = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    // No reset: a pre-candidate keeps its term and vote (§9.6).
    this.votes.clear();
    this.state = 'pre-candidate';
    this.lead = NONE;
  }

  private becomeCandidate(): void {
    this.reset(this.currentTerm + 1);
    this.votedFor = this.id;
    this.state = 'candidate';
  }

  private becomeLeader(): void {
    this.reset(this.currentTerm);
    this.lead = this.id;
    this.state = 'leader';
    const self = this.progress.get(this.id)!;
    self.becomeReplicate();
    self.recentActive = true;
    self.maybeUpdate(this.log.stableIndex);
    // §5.4.2 / §8: entries of earlier terms commit only once an entry of this term does, so a
    // new leader appends a no-op right away.
    this.appendLocal([{ type: 'normal', data: EMPTY_DATA }]);
    this.bcastAppend();
  }

  private promotable(): boolean {
    return this.voters.has(this.id);
  }

  /** Heard from a leader within the minimum election timeout (or restarted too recently). */
  private inLease(): boolean {
    // Lease reads rely on voters that acknowledged the leader refusing other candidates for an
    // election timeout; a voter that restarted forgot whom it acknowledged, so it waits too.
    if (this.cfg.leaseReads && this.ticks < this.cfg.electionTick) return true;
    return (
      this.cfg.checkQuorum && this.lead !== NONE && this.electionElapsed < this.cfg.electionTick
    );
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.campaign(this.cfg.preVote ? 'pre-election' : 'election');
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum) {
        // §6.2: a leader that has not heard from a quorum in an election timeout steps down.
        const self = this.progress.get(this.id);
        if (self !== undefined) self.recentActive = true;
        if (!hasMajority(this.voters, (id) => this.progress.get(id)?.recentActive === true)) {
          this.becomeFollower(this.currentTerm, NONE);
          return;
        }
        for (const pr of this.progress.values()) if (pr.id !== this.id) pr.recentActive = false;
      }
      // §3.10: a transfer that did not complete within an election timeout is abandoned.
      this.leadTransferee = NONE;
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  private campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    let voteTerm: number;
    let type: 'vote' | 'pre-vote';
    if (kind === 'pre-election') {
      this.becomePreCandidate();
      voteTerm = this.currentTerm + 1;
      type = 'pre-vote';
    } else {
      this.becomeCandidate();
      voteTerm = this.currentTerm;
      type = 'vote';
    }
    if (this.poll(this.id, true) === 'won') {
      // The only voter.
      if (kind === 'pre-election') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    for (const v of this.voters) {
      if (v === this.id) continue;
      this.send({
        type,
        from: this.id,
        to: v,
        term: voteTerm,
        index: this.log.lastIndex,
        logTerm: this.log.lastTerm,
        transfer: kind === 'transfer',
      });
    }
  }

  private poll(from: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return voteResult(this.voters, this.votes);
  }

  // ---- Message handling ---------------------------------------------------------------------

  /**
   * §5.3 promises that a leader's entries follow prevLogIndex one by one and that terms never go
   * back along a log (nor beyond the leader's term); a message that breaks this would trip
   * storage's checks or corrupt the log, so it is refused as a whole, before it changes anything.
   */
  private malformation(m: Message): StepResult | undefined {
    const malformed = (detail: string): StepResult => ({ ok: false, reason: 'malformed', detail });
    switch (m.type) {
      case 'append': {
        let previousTerm = m.logTerm;
        for (const [i, e] of m.entries.entries()) {
          if (e.index !== m.index + 1 + i) {
            return malformed(
              `append from ${m.from}: entries are not consecutive: entry ${i} has index ${e.index}, expected ${m.index + 1 + i}`,
            );
          }
          if (e.term < previousTerm) {
            return malformed(
              `append from ${m.from}: entry ${e.index} has term ${e.term}, below the ${previousTerm} before it`,
            );
          }
          if (e.term > m.term) {
            return malformed(
              `append from ${m.from}: entry ${e.index} has term ${e.term}, beyond the leader's term ${m.term}`,
            );
          }
          previousTerm = e.term;
        }
        return undefined;
      }
      case 'snapshot': {
        const { index, term, confState } = m.snapshot.metadata;
        if (index > 0 && (term < 1 || term > m.term)) {
          return malformed(
            `snapshot from ${m.from}: term ${term} at index ${index} is not in 1..${m.term}`,
          );
        }
        const ids = [...confState.voters, ...confState.learners];
        if (index > 0 && (confState.voters.length === 0 || !ids.every(isNodeId))) {
          return malformed(`snapshot from ${m.from}: membership ${JSON.stringify(confState)}`);
        }
        return undefined;
      }
      case 'propose':
        // Membership changes have their own path (proposeConfChange) with its own checks.
        return m.entries.every((e) => e.type === 'normal')
          ? undefined
          : malformed(`propose from ${m.from}: only normal entries may be forwarded`);
      default:
        return undefined;
    }
  }

  /**
   * Messages from a node outside this replica's configuration are refused (a removed server
   * must not disrupt the group, §4.2.3), except a leader's appends, heartbeats and snapshots of
   * the current or a newer term: a leader cannot be elected without a quorum, so its sender is in
   * a configuration this replica has not appended yet (a lagging follower, a joiner whose log
   * is empty, a leader that removed itself and commits that, §4.2.2). Refusing it would strand
   * this replica; a stale leader is already turned away by its term.
   */
  private nonMember(m: Message): StepResult | undefined {
    if (this.voters.has(m.from) || this.learners.has(m.from)) return undefined;
    const leaderTraffic = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
    if (leaderTraffic && m.term >= this.currentTerm) return undefined;
    return {
      ok: false,
      reason: 'not-a-member',
      detail: `${m.type} from ${m.from}: not a member of the configuration (voters ${[...this.voters].join(',')}; learners ${[...this.learners].join(',') || 'none'})`,
    };
  }

  private handleVoteRequest(m: VoteMessage): void {
    const responseType = m.type === 'vote' ? 'vote-response' : 'pre-vote-response';
    // §5.2: one vote per term (repeat it for the same candidate); a pre-vote for a future term
    // promises nothing. A replica that knows a leader in this term votes for no one else.
    const canVote =
      this.votedFor === m.from ||
      (this.votedFor === NONE && this.lead === NONE) ||
      (m.type === 'pre-vote' && m.term > this.currentTerm);
    // §5.4.1: only for a candidate whose log is at least as up-to-date as ours. A learner (or a
    // replica not yet aware of its promotion) answers too: the candidate counts only its voters.
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.send({ type: responseType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.votedFor = m.from;
      }
    } else {
      this.send({
        type: responseType,
        from: this.id,
        to: m.from,
        term: this.currentTerm,
        reject: true,
      });
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'append':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppend(m);
        break;
      case 'heartbeat':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        break;
      case 'snapshot':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        break;
      case 'timeout-now':
        // §3.10: campaign at once, skipping PreVote, marked so voters in lease still answer.
        this.campaign('transfer');
        break;
      case 'read-index-response':
        this.readStates.push({ index: m.index, context: m.context });
        break;
      default:
        break;
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'append':
        this.becomeFollower(m.term, m.from);
        this.handleAppend(m);
        break;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        break;
      case 'snapshot':
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        break;
      case 'vote-response':
      case 'pre-vote-response': {
        // Stale pre-vote answers can reach a candidate of the same term: count only our kind.
        const ours = this.state === 'pre-candidate' ? 'pre-vote-response' : 'vote-response';
        if (m.type !== ours) break;
        const result = this.poll(m.from, !m.reject);
        if (result === 'won') {
          if (this.state === 'pre-candidate') this.campaign('election');
          else this.becomeLeader();
        } else if (result === 'lost') {
          this.becomeFollower(this.currentTerm, NONE);
        }
        break;
      }
      default:
        break;
    }
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case 'append-response':
        this.handleAppendResponse(m);
        break;
      case 'heartbeat-response':
        this.handleHeartbeatResponse(m);
        break;
      case 'read-index':
        this.handleReadRequest(m.from, m.context);
        break;
      case 'propose':
        // Refused the way a local proposal would be (a transfer under way, a leader removed
        // from the group); the follower proposes again once it knows the next leader.
        if (this.proposalRejection() !== undefined) break;
        this.appendLocal(m.entries.map((e) => ({ type: 'normal', data: e.data })));
        this.bcastAppend();
        break;
      default:
        break;
    }
  }

  private appendResponse(
    to: NodeId,
    index: number,
    reject: boolean,
    hint = 0,
    hintTerm = 0,
  ): AppendResponseMessage {
    return {
      type: 'append-response',
      from: this.id,
      to,
      term: this.currentTerm,
      index,
      reject,
      rejectHint: hint,
      rejectHintTerm: hintTerm,
    };
  }

  /** §5.3: the consistency check, then append and commit what the leader showed to match. */
  private handleAppend(m: AppendMessage): void {
    if (m.index < this.log.committed) {
      // Everything up to our commit index matches already; tell the leader where to resume.
      this.send(this.appendResponse(m.from, this.log.committed, false));
      return;
    }
    const result = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (result !== undefined) {
      this.afterAppend(result.appended, result.truncatedFrom);
      this.send(this.appendResponse(m.from, result.lastNew, false));
      return;
    }
    // Fast backtracking: point the leader at our last entry that could still match, skipping
    // every index whose term is above the leader's term at m.index.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex), m.logTerm);
    this.send(this.appendResponse(m.from, m.index, true, hint.index, hint.term));
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    // The leader caps a heartbeat's commit at what it knows this replica holds: a commit beyond
    // the log means this replica lost entries it had acknowledged (a wiped data directory).
    // Raft assumes stable storage; rather than stay stuck, it asks the leader to probe it anew.
    const lostLog = m.commit > this.log.lastIndex;
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex));
    this.send({
      type: 'heartbeat-response',
      from: this.id,
      to: m.from,
      term: this.currentTerm,
      index: m.index,
      lostLog,
    });
  }

  /** §7 InstallSnapshot on a follower. */
  private handleSnapshot(m: SnapshotMessage): void {
    const { index, term, confState } = m.snapshot.metadata;
    if (index <= this.log.committed) {
      this.send(this.appendResponse(m.from, this.log.committed, false));
      return;
    }
    if (this.log.matchTerm(index, term)) {
      // Our log already holds the snapshot's last entry: keep the log, just commit up to it.
      this.log.commitTo(index);
      this.send(this.appendResponse(m.from, this.log.committed, false));
      return;
    }
    this.log.restore(m.snapshot);
    this.lastConfIndex = index;
    this.applyConfState(confState);
    this.send(this.appendResponse(m.from, this.log.lastIndex, false));
  }

  private handleAppendResponse(m: AppendResponseMessage): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.lastContactTick = this.ticks;
    if (m.reject) {
      let nextProbe = m.rejectHint;
      if (m.rejectHintTerm > 0) {
        // Skip, in our own log, every index whose term exceeds the follower's term at the hint.
        nextProbe = this.log.findConflictByTerm(m.rejectHint, m.rejectHintTerm).index;
      }
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(pr, true);
      }
      return;
    }
    if (!(pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'probe'))) return;
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex) {
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      this.bcastAppend();
      if (this.stepDownIfRemoved()) return;
    } else if (pr.sentCommit < this.log.committed) {
      // It may have missed the latest commit index; tell it now rather than at the next heartbeat.
      this.sendAppend(pr, true);
    }
    // The window may have opened for several messages.
    while (this.sendAppend(pr, false));
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex) {
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: HeartbeatResponseMessage): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    pr.lastContactTick = this.ticks;
    pr.probeSent = false;
    // If every in-flight append was lost, the window never drains: let one more through, whose
    // rejection (a gap) puts the follower back into probe.
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (m.lostLog && pr.state === 'replicate') pr.becomeProbe();
    if (pr.match < this.log.lastIndex || pr.state === 'probe') this.sendAppend(pr, true);
    if (m.index > pr.ackedRound) {
      pr.ackedRound = m.index;
      this.advanceReads();
    }
  }

  // ---- Replication --------------------------------------------------------------------------

  private send(m: Message): void {
    this.msgs.push(m);
  }

  /** Sends the next append (or the snapshot) to a follower; true if it carried entries. */
  private sendAppend(pr: Progress, sendIfEmpty: boolean): boolean {
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    if (prevIndex < this.log.snapshotIndex) {
      this.sendSnapshot(pr);
      return false;
    }
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) {
      throw new RaftInvariantError(`next index ${pr.next} of ${pr.id} is beyond the log`);
    }
    const entries = this.log.slice(
      pr.next,
      this.log.lastIndex + 1,
      this.cfg.maxEntriesPerMsg,
      this.cfg.maxBytesPerMsg,
    );
    if (entries.length === 0 && !sendIfEmpty) return false;
    const commit = this.log.committed;
    this.send({
      type: 'append',
      from: this.id,
      to: pr.id,
      term: this.currentTerm,
      index: prevIndex,
      logTerm: prevTerm,
      entries,
      commit,
    });
    pr.sentCommit = commit;
    pr.sentEntries(entries.length, entries[entries.length - 1]?.index ?? 0);
    return entries.length > 0;
  }

  private sendSnapshot(pr: Progress): void {
    // A follower we have not heard from lately is probably down: the snapshot would be wasted.
    if (!pr.recentActive) return;
    const snapshot = this.log.snapshot;
    this.send({ type: 'snapshot', from: this.id, to: pr.id, term: this.currentTerm, snapshot });
    pr.becomeSnapshot(snapshot.metadata.index);
  }

  private bcastAppend(): void {
    for (const pr of this.progress.values()) if (pr.id !== this.id) this.sendAppend(pr, true);
  }

  private bcastHeartbeat(): void {
    const round = ++this.heartbeatRound;
    if (this.cfg.leaseReads) this.roundSentTick.set(round, this.ticks);
    for (const pr of this.progress.values()) {
      if (pr.id === this.id) continue;
      this.send({
        type: 'heartbeat',
        from: this.id,
        to: pr.id,
        term: this.currentTerm,
        // Never beyond what the follower is known to hold: it cannot check the log here.
        commit: Math.min(pr.match, this.log.committed),
        index: round,
      });
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    this.leaseVoid = true;
    this.send({ type: 'timeout-now', from: this.id, to, term: this.currentTerm });
  }

  /** Appends entries of the current term to the leader's own log. */
  private appendLocal(items: readonly { type: EntryType; data: Uint8Array }[]): Entry[] {
    let index = this.log.lastIndex;
    const entries: Entry[] = items.map((it) => ({
      term: this.currentTerm,
      index: ++index,
      type: it.type,
      data: it.data,
    }));
    this.log.append(entries);
    this.afterAppend(entries, undefined);
    // The leader counts itself toward a quorum only once its own copy is durable (advance), so
    // the application may send these appends while it is still writing them (thesis §10.2.1).
    return entries;
  }

  /**
   * §5.3/§5.4.2: commit the highest index stored on a majority of voters, but only if its entry
   * is of the current term; earlier entries then commit with it (never by counting replicas).
   */
  private maybeCommit(): boolean {
    const index = majorityValue(this.voters, (id) => this.progress.get(id)?.match ?? 0);
    if (index <= this.log.committed || this.log.term(index) !== this.currentTerm) return false;
    this.log.commitTo(index);
    this.releaseReadsAwaitingCommit();
    return true;
  }

  /** §4.2.2: a leader removed from the configuration steps down once the removal commits. */
  private stepDownIfRemoved(): boolean {
    if (this.voters.has(this.id) || this.lastConfIndex > this.log.committed) return false;
    this.becomeFollower(this.currentTerm, NONE);
    return true;
  }

  private proposalRejection(): ProposeRejection | undefined {
    if (this.state !== 'leader') return { ok: false, reason: 'not-leader', leader: this.lead };
    if (!this.voters.has(this.id)) return { ok: false, reason: 'not-leader', leader: NONE };
    if (this.leadTransferee !== NONE) {
      return { ok: false, reason: 'transferring', transferee: this.leadTransferee };
    }
    return undefined;
  }

  // ---- Reads --------------------------------------------------------------------------------

  private committedInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.currentTerm;
  }

  /** §6.4 on the leader: a read index for a local or follower read. */
  private handleReadRequest(from: NodeId, context: Uint8Array): void {
    if (!this.committedInCurrentTerm()) {
      // Until an entry of this term commits, the commit index may lag what earlier leaders
      // committed; hold the request until it does.
      this.readsAwaitingCommit.push({ from, context });
      return;
    }
    const index = this.log.committed;
    if (this.voters.size === 1 && this.voters.has(this.id)) {
      this.respondRead(from, index, context);
      return;
    }
    if (this.cfg.readOnly === 'lease-based' && this.leaseHolds()) {
      this.respondRead(from, index, context);
      return;
    }
    // Confirm that we are still the leader: a quorum must acknowledge a heartbeat round sent
    // after the request arrived.
    this.pendingReads.push({ from, context, index, round: this.heartbeatRound + 1 });
    this.bcastHeartbeat();
  }

  /**
   * §6.4.1: voters that acknowledged a heartbeat round ignore other candidates for an election
   * timeout after receiving it, so no other leader can exist until electionTick ticks after the
   * round was sent. One tick less covers the phase difference between replicas' ticks.
   */
  private leaseHolds(): boolean {
    return (
      !this.leaseVoid &&
      this.leaseStartTick !== undefined &&
      this.ticks < this.leaseStartTick + this.cfg.electionTick - 1
    );
  }

  private advanceReads(): void {
    const confirmed = majorityValue(this.voters, (id) =>
      id === this.id ? this.heartbeatRound : (this.progress.get(id)?.ackedRound ?? 0),
    );
    if (this.cfg.leaseReads) {
      for (const [round, tick] of this.roundSentTick) {
        if (round > confirmed) break;
        if (round === confirmed) this.leaseStartTick = tick;
        this.roundSentTick.delete(round);
      }
    }
    let released = 0;
    for (const r of this.pendingReads) {
      if (r.round > confirmed) break;
      this.respondRead(r.from, r.index, r.context);
      released++;
    }
    if (released > 0) this.pendingReads = this.pendingReads.slice(released);
  }

  private releaseReadsAwaitingCommit(): void {
    if (this.readsAwaitingCommit.length === 0 || !this.committedInCurrentTerm()) return;
    const waiting = this.readsAwaitingCommit;
    this.readsAwaitingCommit = [];
    for (const r of waiting) this.handleReadRequest(r.from, r.context);
  }

  private respondRead(from: NodeId, index: number, context: Uint8Array): void {
    if (from === this.id) {
      this.readStates.push({ index, context });
    } else {
      this.send({
        type: 'read-index-response',
        from: this.id,
        to: from,
        term: this.currentTerm,
        index,
        context,
      });
    }
  }

  // ---- Membership ---------------------------------------------------------------------------

  private confState(): ConfState {
    return {
      voters: [...this.voters].sort((a, b) => a - b),
      learners: [...this.learners].sort((a, b) => a - b),
    };
  }

  /** Membership as of log position `index`: the last conf-change entry at or before it. */
  private confStateAt(index: number): ConfState {
    for (let i = index; i >= this.log.firstIndex; i--) {
      const e = this.log.entry(i)!;
      if (e.type === 'conf-change') return decodeConfChangeEntry(e.data).confState;
    }
    return this.log.snapshot.metadata.confState;
  }

  /** Recomputes membership from the log (after a restart, or a truncated conf-change entry). */
  private refreshConfig(): void {
    let index = this.log.lastIndex;
    while (index >= this.log.firstIndex && this.log.entry(index)!.type !== 'conf-change') index--;
    this.lastConfIndex = Math.max(index, this.log.snapshotIndex);
    this.applyConfState(this.confStateAt(this.log.lastIndex));
  }

  /** §4.1: a configuration is in effect as soon as its entry is in the log. */
  private afterAppend(appended: readonly Entry[], truncatedFrom: number | undefined): void {
    if (truncatedFrom !== undefined && truncatedFrom <= this.lastConfIndex) {
      this.refreshConfig();
      return;
    }
    for (let i = appended.length - 1; i >= 0; i--) {
      const e = appended[i]!;
      if (e.type === 'conf-change') {
        this.lastConfIndex = e.index;
        this.applyConfState(decodeConfChangeEntry(e.data).confState);
        return;
      }
    }
  }

  private applyConfState(cs: ConfState): void {
    this.voters = new Set(cs.voters);
    this.learners = new Set(cs.learners);
    if (this.state !== 'leader') return;
    for (const id of [...cs.voters, ...cs.learners]) {
      const pr = this.progress.get(id);
      if (pr !== undefined) {
        pr.isLearner = this.learners.has(id);
        continue;
      }
      const added = new Progress(
        id,
        this.log.lastIndex + 1,
        this.cfg.maxInflightMsgs,
        this.learners.has(id),
        this.ticks,
      );
      // Counted as active until the next CheckQuorum round: it has had no chance to answer.
      added.recentActive = true;
      this.progress.set(id, added);
    }
    for (const id of [...this.progress.keys()]) {
      if (!this.voters.has(id) && !this.learners.has(id)) this.progress.delete(id);
    }
    if (this.leadTransferee !== NONE && !this.voters.has(this.leadTransferee)) {
      this.leadTransferee = NONE;
    }
  }

  private softState(): SoftState {
    return { leader: this.lead, role: this.state };
  }

  private hardState(): HardState {
    return { term: this.currentTerm, vote: this.votedFor, commit: this.log.committed };
  }
}
