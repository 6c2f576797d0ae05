// Deterministic simulation of a Raft cluster: real RaftNode replicas, simulated time, network,
// disks and clients, all driven by one seeded PRNG, with Raft's safety properties checked after
// every event. A seed replays exactly (scripts/simulate.ts --seed N).
//
// One run: a chaos phase (partitions symmetric and one-way, loss, duplication, long delays,
// crashes that are power losses (what was written but not fsynced is lost, see disk.ts),
// including between persisting a Ready and sending its messages, pauses of a whole replica,
// leadership transfers, membership changes, log compaction with snapshots sent to lagging
// replicas), then the network heals and every replica restarts: a leader must emerge and a final
// command must reach every member within bounded simulated time.
//
// Each replica has its own clock, drifting within a bound per seed: it ticks once per unit of
// its own time, so replicas tick at slightly different rates and phases. A paused replica's
// clock runs on; when it resumes, a waiting client request and its queued messages come first,
// and its timer fires late and catches up the ticks it missed, as in cat-feeder's driver, which
// also catches up before a lease read (the protection a paused leader's stale lease needs).
//
// Parameters vary per seed (cluster size, PreVote, CheckQuorum, safe or lease reads, flow-control
// windows, disk latency, fault rates). A third of the seeds are "leader churn": new leaders are
// cut off or crash within a few ticks and come back fast, and entries trickle one per message,
// which is what it takes to reach the paper's Figure 8 (a stale leader re-elected after partial
// replication) in a fraction of the runs.
import {
  NONE,
  RaftInvariantError,
  RaftNode,
  decodeConfChangeEntry,
  type ConfChange,
  type Entry,
  type Message,
  type NodeId,
  type ReadOnlyMode,
  type ReadState,
  type Ready,
  type Role,
} from '../../src/core/index.js';
import { InvariantViolation, SafetyChecker, entryIdentity, type ReplicaView } from './checker.js';
import { SimDisk } from './disk.js';
import { SimNetwork, type NetworkFaults } from './network.js';
import { createPrng, type Prng } from '@catmesh/faults';

/** Length of the chaos phase unless a run says otherwise. */
export const DEFAULT_CHAOS_TICKS = 1500;

/** The command that replays one seed verbosely (with the same chaos length). */
export function replayCommand(
  seed: number,
  chaosTicks = DEFAULT_CHAOS_TICKS,
  plantedBug?: SimPlantedBug,
): string {
  const ticks = chaosTicks === DEFAULT_CHAOS_TICKS ? '' : ` --ticks ${chaosTicks}`;
  const bug = plantedBug === undefined ? '' : ` --planted-bug ${plantedBug}`;
  return `node --conditions=@catmesh/source --import tsx packages/raft/scripts/simulate.ts --seed ${seed}${ticks}${bug}`;
}

export interface SimOptions {
  readonly seed: number;
  /** Length of the chaos phase in ticks (default DEFAULT_CHAOS_TICKS). */
  readonly chaosTicks?: number;
  /** Receives a line per notable event (replay). */
  readonly trace?: (line: string) => void;
  /** Also trace every message sent, delivered and dropped. */
  readonly traceMessages?: boolean;
  /** Only for the tests that prove the simulator catches it; see SimPlantedBug. */
  readonly plantedBug?: SimPlantedBug;
}

/**
 * A bug planted in the simulated driver on purpose, to show that the simulator catches it:
 * 'lease-read-without-tick-catch-up' serves a lease read without first ticking the time that
 * passed unseen (a paused leader trusts a lease that ran out); 'hard-state-acknowledged-unsynced'
 * goes on with a Ready that holds only a hard state (a vote, a new term) without its fsync.
 */
export type SimPlantedBug = 'lease-read-without-tick-catch-up' | 'hard-state-acknowledged-unsynced';

export interface SimParams {
  readonly voters: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly readOnly: ReadOnlyMode;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly maxInflightMsgs: number;
  readonly maxEntriesPerMsg: number;
  readonly persistLatencyMax: number;
  readonly chaosTicks: number;
  readonly faultRate: number;
  readonly proposeRate: number;
  readonly readRate: number;
  readonly crashAtReadyChance: number;
  /** Chance that a leader sends a Ready's messages before persisting it, when the Ready allows. */
  readonly sendEarlyChance: number;
  /**
   * Chance that a newly elected leader crashes a few ticks later, having replicated part of its
   * log: the churn of the paper's Figure 8, where a leader that counted replicas of an earlier
   * term's entry would lose a committed entry.
   */
  readonly newLeaderCrashChance: number;
  /**
   * Chance that a newly elected leader is cut off before its first messages leave: its no-op
   * and the commands forwarded to it stay on it alone, conflicting with what others append.
   */
  readonly newLeaderIsolateChance: number;
  /**
   * Chance that a leader crashes as soon as its commit index advances, before its next Ready
   * is persisted or sent: whatever it was about to tell followers is lost.
   */
  readonly commitCrashChance: number;
  /** Downtime of a crashed replica, in ticks (inclusive range). */
  readonly downtime: readonly [number, number];
  /** Each replica's clock runs at 1 ± up to this much of the world's rate. */
  readonly clockDrift: number;
  /** How long a pause stops a replica, in ticks (inclusive range). */
  readonly pause: readonly [number, number];
  readonly network: NetworkFaults;
}

export interface SimStats {
  ticks: number;
  /** Simulated steps: replica ticks, message deliveries, client requests and faults. */
  events: number;
  elections: number;
  proposals: number;
  /** Commands followers sent to their leader as 'propose' messages. */
  forwarded: number;
  committed: number;
  reads: number;
  readsCompleted: number;
  faults: number;
  crashes: number;
  /** Batches written but not fsynced that power losses took away. */
  lostBatches: number;
  pauses: number;
  transfers: number;
  confChanges: number;
  compactions: number;
  snapshotsSent: number;
  messages: number;
  /** Ticks from healing to a leader with an entry of its term committed. */
  leaderAfterHeal: number | undefined;
}

export interface SimResult {
  readonly seed: number;
  readonly params: SimParams;
  readonly stats: SimStats;
  readonly violation:
    { readonly invariant: string; readonly message: string; readonly tick: number } | undefined;
}

interface StateMachine {
  applied: number;
  count: number;
  hash: number;
}

/** A replica's own clock: `elapsed` units of its time, of which `ticked` were ticks delivered. */
interface NodeClock {
  readonly rate: number;
  elapsed: number;
  ticked: number;
}

interface Replica {
  readonly id: NodeId;
  readonly founding: boolean;
  readonly prng: Prng;
  raft: RaftNode | undefined;
  readonly disk: SimDisk;
  readonly clock: NodeClock;
  /** Paused (SIGSTOP) until this tick: no ticks, no I/O; messages wait in `inbox`. */
  pausedUntil: number | undefined;
  inbox: Message[];
  sm: StateMachine;
  pending: { ready: Ready; at: number } | undefined;
  checkedCommit: number;
  role: Role;
  term: number;
  removed: boolean;
  restartAt: number | undefined;
  crashAt: number | undefined;
  reconnectAt: number | undefined;
}

interface PendingRead {
  readonly node: NodeId;
  readonly start: number;
  /** Highest index committed anywhere when the read began: the read must reflect it. */
  readonly mustSee: number;
  index: number | undefined;
}

const FNV_OFFSET = 2166136261;
const MAX_UNCOMMITTED = 64;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function fnv(hash: number, data: Uint8Array): number {
  let h = hash;
  for (let i = 0; i < data.byteLength; i++) h = Math.imul(h ^ data[i]!, 16777619) >>> 0;
  return h;
}

function encodeState(sm: StateMachine): Uint8Array {
  const out = new Uint8Array(12);
  const view = new DataView(out.buffer);
  view.setUint32(0, sm.applied);
  view.setUint32(4, sm.count);
  view.setUint32(8, sm.hash);
  return out;
}

function decodeState(data: Uint8Array): StateMachine {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return { applied: view.getUint32(0), count: view.getUint32(4), hash: view.getUint32(8) };
}

function deriveParams(seed: number, chaosTicks: number): SimParams {
  const p = createPrng(`${seed}/parameters`);
  const checkQuorum = p.chance(0.6);
  // A third of the seeds are "leader churn" (the paper's Figure 8): leaders are cut off or die
  // soon after election and come back fast, and entries trickle one per message, so a follower
  // can hold an earlier term's entry without the new leader's entry after it.
  const churn = p.chance(0.33);
  const maxDelay = p.int(1, 3);
  const maxEntriesPerMsg = churn ? 1 : p.pick([1, 2, 4, 64]);
  // Small windows exercise flow control; at least 4 entries per round trip keeps catching up
  // after a long partition within the run's time.
  const maxInflightMsgs = p.pick([1, 2, 4, 16].filter((n) => n * maxEntriesPerMsg >= 4));
  return {
    voters: churn || p.chance(0.4) ? 3 : 5,
    preVote: p.chance(0.6),
    checkQuorum,
    readOnly: checkQuorum && p.chance(0.4) ? 'lease-based' : 'safe',
    electionTick: 10,
    heartbeatTick: p.int(1, 3),
    maxInflightMsgs,
    maxEntriesPerMsg,
    persistLatencyMax: p.pick([0, 0, 1, 2]),
    chaosTicks,
    faultRate: 0.02 + p.next() * 0.05,
    proposeRate: 0.2 + p.next() * 0.8,
    readRate: 0.05 + p.next() * 0.25,
    crashAtReadyChance: 0.001,
    sendEarlyChance: p.pick([0, 0.5, 1]),
    newLeaderCrashChance: churn ? 0.3 : p.pick([0, 0.2]),
    newLeaderIsolateChance: churn ? 0.5 : p.pick([0, 0.1]),
    commitCrashChance: churn ? 0.25 : 0.05,
    downtime: churn ? [3, 20] : [5, 60],
    ...clockParams(p),
    network: {
      drop: p.next() * 0.1,
      duplicate: p.next() * 0.05,
      minDelay: 1,
      maxDelay,
      longDelayChance: p.next() * 0.05,
      longDelay: 25,
      reorder: p.next() * 0.2,
    },
  };
}

/** Drawn last, so that adding them left every other parameter of a seed as it was. */
function clockParams(p: Prng): Pick<SimParams, 'clockDrift' | 'pause'> {
  return { clockDrift: p.pick([0, 0.005, 0.01]), pause: [20, 60] };
}

const CALM_NETWORK: NetworkFaults = {
  drop: 0,
  duplicate: 0,
  minDelay: 1,
  maxDelay: 2,
  longDelayChance: 0,
  longDelay: 2,
  reorder: 0,
};

type FaultKind =
  | 'partition'
  | 'isolate-leader'
  | 'one-way'
  | 'heal'
  | 'crash'
  | 'crash-leader-soon'
  | 'transfer'
  | 'conf-change'
  | 'compact'
  | 'pause'
  | 'network';

const FAULT_WEIGHTS: readonly (readonly [FaultKind, number])[] = [
  ['partition', 3],
  ['isolate-leader', 3],
  ['one-way', 2],
  ['heal', 4],
  ['crash', 2],
  ['crash-leader-soon', 2],
  ['transfer', 2],
  ['conf-change', 2],
  ['compact', 3],
  ['pause', 2],
  ['network', 1],
];

export class Simulation {
  /** Readies whose messages a leader sent before persisting them. */
  private readonly sentEarly = new WeakSet<Ready>();
  readonly seed: number;
  readonly params: SimParams;
  readonly stats: SimStats = {
    ticks: 0,
    events: 0,
    elections: 0,
    proposals: 0,
    forwarded: 0,
    committed: 0,
    reads: 0,
    readsCompleted: 0,
    faults: 0,
    crashes: 0,
    lostBatches: 0,
    pauses: 0,
    transfers: 0,
    confChanges: 0,
    compactions: 0,
    snapshotsSent: 0,
    messages: 0,
    leaderAfterHeal: undefined,
  };
  private readonly prng: Prng;
  private readonly net: SimNetwork;
  private readonly checker = new SafetyChecker();
  private readonly replicas = new Map<NodeId, Replica>();
  private readonly reads = new Map<string, PendingRead>();
  private readonly trace: ((line: string) => void) | undefined;
  private readonly traceMessages: boolean;
  private readonly founders: NodeId[];
  private readonly plantedBug: SimPlantedBug | undefined;
  private now = 0;
  private nextNodeId: NodeId;
  private nextCommand = 1;
  private nextRead = 1;
  private healTick: number | undefined;
  private marker: { index: number; term: number; identity: string } | undefined;
  private done = false;

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.params = deriveParams(options.seed, options.chaosTicks ?? DEFAULT_CHAOS_TICKS);
    this.prng = createPrng(options.seed);
    this.net = new SimNetwork(this.prng.fork(), { ...this.params.network });
    this.trace = options.trace;
    this.traceMessages = options.traceMessages ?? false;
    this.plantedBug = options.plantedBug;
    this.founders = Array.from({ length: this.params.voters }, (_, i) => i + 1);
    this.nextNodeId = this.params.voters + 1;
    for (const id of this.founders) this.addReplica(id, true);
  }

  run(): SimResult {
    const limit = this.params.chaosTicks + 100 * this.params.electionTick;
    let violation: SimResult['violation'];
    try {
      for (this.now = 1; this.now <= limit && !this.done; this.now++) this.tickWorld();
      if (!this.done) {
        throw new InvariantViolation(
          'liveness',
          `no final command applied on every member ${limit - this.params.chaosTicks} ticks after healing; ${this.describe()}`,
        );
      }
    } catch (err) {
      if (err instanceof InvariantViolation) {
        violation = { invariant: err.invariant, message: err.message, tick: this.now };
      } else if (err instanceof RaftInvariantError) {
        violation = { invariant: 'core invariant', message: err.message, tick: this.now };
      } else {
        throw err;
      }
      this.log(`VIOLATION ${violation.message}`);
    }
    this.stats.ticks = this.now;
    this.stats.committed = this.checker.highWater;
    return { seed: this.seed, params: this.params, stats: this.stats, violation };
  }

  // ---- The world's clock --------------------------------------------------------------------

  private tickWorld(): void {
    const p = this.params;
    if (this.healTick === undefined && this.now >= p.chaosTicks) this.heal();
    if (this.healTick === undefined) this.maybeFault();
    for (const r of this.replicas.values()) {
      r.clock.elapsed += r.clock.rate;
      if (r.pausedUntil !== undefined && r.pausedUntil <= this.now) this.resume(r);
      if (r.reconnectAt !== undefined && r.reconnectAt <= this.now) {
        r.reconnectAt = undefined;
        this.net.reconnect(r.id);
        // Usually it comes back only after a crash: meanwhile the others elect a leader without
        // hearing of its entries, as S5 in the paper's Figure 8.
        if (this.prng.chance(0.7)) this.crash(r, 'after being cut off');
        else this.log(`node ${r.id} reconnected`);
      }
      if (r.raft === undefined && r.restartAt !== undefined && r.restartAt <= this.now)
        this.restart(r);
      if (r.raft !== undefined && r.crashAt !== undefined && r.crashAt <= this.now) {
        this.crash(r, 'scheduled after replicating');
      }
    }
    this.clients();
    for (const r of this.prng.shuffle(this.running())) this.catchUpTicks(r);
    const { deliver, cut } = this.net.takeDue(this.now);
    for (const m of cut) this.dropped(m, 'cut in flight');
    for (const m of deliver) this.deliver(m);
    for (const r of this.replicas.values()) {
      if (r.pausedUntil !== undefined) continue;
      if (r.pending !== undefined && r.pending.at <= this.now && r.raft !== undefined) {
        const { ready } = r.pending;
        r.pending = undefined;
        this.complete(r, ready);
        this.pump(r);
      }
    }
    this.progressReads();
    if (this.healTick !== undefined) this.checkLiveness();
  }

  private live(): Replica[] {
    return [...this.replicas.values()].filter((r) => r.raft !== undefined);
  }

  /** Live and not paused: the replicas that act. */
  private running(): Replica[] {
    return this.live().filter((r) => r.pausedUntil === undefined);
  }

  /**
   * The driver's timer: one tick per unit of the replica's own time since the last tick, at most
   * a few election timeouts' worth (after that more ticks change nothing), as cat-feeder does.
   */
  private catchUpTicks(r: Replica): void {
    const now = Math.floor(r.clock.elapsed);
    const due = Math.min(now - r.clock.ticked, 4 * this.params.electionTick);
    r.clock.ticked = now;
    for (let i = 0; i < due && r.raft !== undefined; i++) {
      this.stats.events++;
      r.raft.tick();
      this.after(r);
    }
  }

  private resume(r: Replica): void {
    r.pausedUntil = undefined;
    this.log(`node ${r.id} resumes`);
    // What waited while it was stopped runs before its timer: a client's read first.
    if (this.prng.chance(0.7)) this.readOn(r);
    const inbox = r.inbox;
    r.inbox = [];
    for (const m of inbox) this.deliver(m);
  }

  private log(line: string): void {
    this.trace?.(`[t=${this.now}] ${line}`);
  }

  // ---- Replicas -----------------------------------------------------------------------------

  private addReplica(id: NodeId, founding: boolean): Replica {
    const r: Replica = {
      id,
      founding,
      prng: this.prng.fork(),
      raft: undefined,
      disk: new SimDisk(id, { term: 0, vote: NONE, commit: 0 }),
      clock: {
        rate: 1 + (this.prng.next() * 2 - 1) * this.params.clockDrift,
        elapsed: 0,
        ticked: 0,
      },
      pausedUntil: undefined,
      inbox: [],
      sm: { applied: 0, count: 0, hash: FNV_OFFSET },
      pending: undefined,
      checkedCommit: 0,
      role: 'follower',
      term: 0,
      removed: false,
      restartAt: undefined,
      crashAt: undefined,
      reconnectAt: undefined,
    };
    this.replicas.set(id, r);
    this.restart(r);
    return r;
  }

  private restart(r: Replica): void {
    const p = this.params;
    const s = r.disk.durable;
    r.clock.ticked = Math.floor(r.clock.elapsed);
    r.raft = new RaftNode({
      id: r.id,
      electionTick: p.electionTick,
      heartbeatTick: p.heartbeatTick,
      random: () => r.prng.next(),
      storage: { hardState: s.hardState, snapshot: s.snapshot, entries: s.entries },
      bootstrap: r.founding ? { voters: this.founders, learners: [] } : undefined,
      preVote: p.preVote,
      checkQuorum: p.checkQuorum,
      readOnly: p.readOnly,
      maxInflightMsgs: p.maxInflightMsgs,
      maxEntriesPerMsg: p.maxEntriesPerMsg,
    });
    r.sm = s.snapshot ? decodeState(s.snapshot.data) : { applied: 0, count: 0, hash: FNV_OFFSET };
    r.checkedCommit = s.snapshot?.metadata.index ?? 0;
    r.pending = undefined;
    r.restartAt = undefined;
    r.crashAt = undefined;
    r.role = 'follower';
    r.term = s.hardState.term;
    this.log(`node ${r.id} starts (term ${s.hardState.term}, ${s.entries.length} entries stored)`);
    this.after(r);
  }

  private crash(r: Replica, why: string): void {
    if (r.raft === undefined) return;
    r.raft = undefined;
    r.pending = undefined;
    r.crashAt = undefined;
    r.pausedUntil = undefined;
    r.inbox = [];
    // Every crash is a power loss: unsynced batches are gone, unless the disk got to some first.
    const unsynced = r.disk.unsyncedBatches;
    const kept = this.prng.chance(0.3) ? this.prng.int(0, unsynced) : 0;
    r.disk.powerLoss(kept);
    this.stats.lostBatches += unsynced - kept;
    r.restartAt = r.removed ? undefined : this.now + this.prng.int(...this.params.downtime);
    this.stats.crashes++;
    for (const [key, read] of this.reads) if (read.node === r.id) this.reads.delete(key);
    this.log(`node ${r.id} crashes (${why})`);
  }

  private view(r: Replica): ReplicaView {
    const raft = r.raft!;
    return {
      id: r.id,
      term: raft.term,
      get firstIndex() {
        return raft.status().firstIndex;
      },
      termAt: (i) => raft.termAt(i),
    };
  }

  /** After any input to a replica: check it, then handle its Ready. */
  private after(r: Replica): void {
    this.observe(r);
    this.pump(r);
  }

  private observe(r: Replica): void {
    const raft = r.raft;
    if (raft === undefined) return;
    const role = raft.role;
    const term = raft.term;
    if (role === 'leader') {
      this.checker.leader(r.id, term);
      if (r.role !== 'leader' || r.term !== term) {
        this.stats.elections++;
        this.log(`node ${r.id} becomes leader of term ${term}`);
        this.checker.newLeader(this.view(r));
        if (this.healTick === undefined) this.churn(r);
      }
    } else if (r.role !== role || r.term !== term) {
      if (this.traceMessages || r.role === 'leader')
        this.log(`node ${r.id} is ${role} in term ${term}`);
    }
    r.role = role;
    r.term = term;
    const commit = raft.commitIndex;
    if (commit > r.checkedCommit) {
      this.checker.committedUpTo(this.view(r), r.checkedCommit + 1, commit);
      r.checkedCommit = commit;
      if (
        role === 'leader' &&
        this.healTick === undefined &&
        this.prng.chance(this.params.commitCrashChance)
      ) {
        this.crash(r, `right after committing up to ${commit}`);
      }
    }
  }

  /** Figure 8 churn: a new leader may be cut off at once, or crash a few ticks later. */
  private churn(r: Replica): void {
    const p = this.params;
    if (this.prng.chance(p.newLeaderIsolateChance)) {
      this.net.partition(
        [r.id],
        this.members().filter((id) => id !== r.id),
      );
      r.reconnectAt = this.now + this.prng.int(5, 40);
      this.log(`new leader ${r.id} cut off until t=${r.reconnectAt}`);
    } else if (this.prng.chance(p.newLeaderCrashChance)) {
      r.crashAt = this.now + this.prng.int(0, 6);
    }
  }

  private pump(r: Replica): void {
    while (r.raft !== undefined && r.pending === undefined && r.raft.hasReady()) {
      const ready = r.raft.ready();
      const first = ready.entries[0];
      if (first !== undefined) {
        this.checker.logEntries(r.id, ready.entries, r.raft.termAt(first.index - 1));
      }
      // A leader's messages may leave before its own write completes (and a crash may then
      // lose the write): the path that lets the leader replicate while it persists.
      if (ready.sendBeforePersisting && this.prng.chance(this.params.sendEarlyChance)) {
        for (const m of ready.messages) this.send(m);
        this.sentEarly.add(ready);
      }
      // Written at once; durable only when the fsync returns (complete).
      if (ready.hardState !== undefined || ready.snapshot !== undefined || first !== undefined) {
        r.disk.write(ready);
      }
      const latency = this.prng.int(0, this.params.persistLatencyMax);
      if (latency === 0) this.complete(r, ready);
      else r.pending = { ready, at: this.now + latency };
    }
  }

  /** Persist, then send, then apply, then advance: the order Ready demands. */
  private complete(r: Replica, ready: Ready): void {
    const crashChance = this.healTick === undefined ? this.params.crashAtReadyChance : 0;
    if (this.prng.chance(crashChance)) {
      this.crash(r, "before a Ready's fsync returned");
      return;
    }
    const hardStateOnly = ready.entries.length === 0 && ready.snapshot === undefined;
    if (!(hardStateOnly && this.plantedBug === 'hard-state-acknowledged-unsynced')) {
      r.disk.sync();
    }
    if (this.prng.chance(crashChance)) {
      this.crash(r, 'after persisting a Ready, before sending its messages');
      return;
    }
    if (!this.sentEarly.has(ready)) for (const m of ready.messages) this.send(m);
    this.apply(r, ready);
    // Applying may have stopped this very replica (its own removal committed).
    r.raft?.advance(ready);
  }

  private apply(r: Replica, ready: Ready): void {
    if (ready.snapshot !== undefined) {
      const restored = decodeState(ready.snapshot.data);
      if (restored.applied !== ready.snapshot.metadata.index) {
        throw new InvariantViolation(
          'snapshot',
          `snapshot ${ready.snapshot.metadata.index} holds state at ${restored.applied}`,
        );
      }
      this.checker.state(r.id, restored.applied, restored.hash);
      r.sm = restored;
    }
    for (const e of ready.committedEntries) {
      if (e.index !== r.sm.applied + 1) {
        throw new InvariantViolation(
          'apply order',
          `node ${r.id} applies ${e.index} after ${r.sm.applied}`,
        );
      }
      if (e.type === 'normal' && e.data.byteLength > 0) {
        r.sm.hash = fnv(r.sm.hash, e.data);
        r.sm.count++;
      } else if (e.type === 'conf-change') {
        this.confApplied(e);
      }
      r.sm.applied = e.index;
      this.checker.apply(r.id, e, r.sm.hash);
    }
    for (const rs of ready.readStates) this.readState(r, rs);
  }

  private confApplied(e: Entry): void {
    const { change, confState } = decodeConfChangeEntry(e.data);
    if (change?.type !== 'remove') return;
    const gone = this.replicas.get(change.node);
    if (gone === undefined || gone.removed) return;
    if (confState.voters.includes(change.node) || confState.learners.includes(change.node)) return;
    gone.removed = true;
    this.log(`removal of node ${change.node} committed (index ${e.index}): it stops`);
    this.crash(gone, 'removed from the cluster');
  }

  // ---- Network ------------------------------------------------------------------------------

  private send(m: Message): void {
    this.stats.messages++;
    if (m.type === 'snapshot') this.stats.snapshotsSent++;
    const reason = this.net.send(m, this.now);
    if (this.traceMessages)
      this.log(`send ${describeMessage(m)}${reason ? ` DROPPED (${reason})` : ''}`);
    if (reason === 'partition') this.replicas.get(m.from)?.raft?.reportUnreachable(m.to);
    if (reason !== undefined && m.type === 'snapshot') {
      this.replicas.get(m.from)?.raft?.reportSnapshot(m.to, 'failed');
    }
  }

  private dropped(m: Message, why: string): void {
    if (this.traceMessages) this.log(`drop ${describeMessage(m)} (${why})`);
    if (m.type === 'snapshot') this.replicas.get(m.from)?.raft?.reportSnapshot(m.to, 'failed');
  }

  private deliver(m: Message): void {
    const dest = this.replicas.get(m.to);
    if (dest?.raft === undefined) {
      this.dropped(m, 'receiver down');
      return;
    }
    if (dest.pausedUntil !== undefined) {
      dest.inbox.push(m); // the kernel queues it until the process runs again
      return;
    }
    this.stats.events++;
    if (this.traceMessages) this.log(`deliver ${describeMessage(m)}`);
    dest.raft.step(m);
    this.after(dest);
    if (m.type === 'snapshot') this.replicas.get(m.from)?.raft?.reportSnapshot(m.to, 'delivered');
  }

  // ---- Clients ------------------------------------------------------------------------------

  private clients(): void {
    const p = this.params;
    // After healing only reads continue (and the final command): the backlog must drain.
    if (this.healTick === undefined && this.prng.chance(p.proposeRate)) this.propose();
    if (this.prng.chance(p.readRate)) this.read();
  }

  private leader(): Replica | undefined {
    let best: Replica | undefined;
    for (const r of this.running()) {
      if (r.raft?.role === 'leader' && (best === undefined || r.raft.term > best.raft!.term))
        best = r;
    }
    return best;
  }

  /**
   * A client sends commands to some replica. A follower forwards them to the leader it knows as
   * a 'propose' message, which the network may lose, delay or duplicate like any other; or the
   * client, told who leads, sends them there itself (as it does for lease reads).
   */
  private propose(): void {
    const live = this.running();
    if (live.length === 0) return;
    this.stats.events++;
    let target = this.prng.pick(live);
    const count = this.prng.chance(0.2) ? this.prng.int(2, 6) : 1;
    const data = Array.from({ length: count }, () => encoder.encode(`c${this.nextCommand++}`));
    if (target.raft!.role !== 'leader' && this.prng.chance(0.5)) {
      const hinted = this.replicas.get(target.raft!.leader);
      if (hinted?.raft === undefined || hinted.pausedUntil !== undefined) return;
      if (!this.net.linkUp(target.id, hinted.id)) return;
      target = hinted;
    }
    const raft = target.raft!;
    // Clients have a bounded number of requests outstanding: they wait while the leader has a
    // long uncommitted tail (a leader cut off from the quorum stops getting new work).
    const leader = raft.role === 'leader' ? raft : this.replicas.get(raft.leader)?.raft;
    if (leader !== undefined) {
      const { lastIndex, commit } = leader.status();
      if (lastIndex - commit >= MAX_UNCOMMITTED) return;
    }
    if (raft.role !== 'leader') {
      if (raft.forwardBatch(data).ok) this.stats.forwarded += count;
    } else {
      const result = count === 1 ? raft.propose(data[0]!) : raft.proposeBatch(data);
      if (result.ok) this.stats.proposals += count;
    }
    this.after(target);
  }

  private read(): void {
    const live = this.running();
    if (live.length === 0) return;
    this.readOn(this.prng.pick(live));
  }

  private readOn(r: Replica): void {
    this.stats.events++;
    // The driver ticks the time that passed unseen before it trusts a lease (cat-feeder's
    // leaseBarrier); a read served from the lease without it is the planted bug.
    if (this.plantedBug !== 'lease-read-without-tick-catch-up') this.catchUpTicks(r);
    if (r.raft === undefined) return;
    const key = `r${this.nextRead++}`;
    const result = r.raft.readIndex(encoder.encode(key));
    if (result.ok) {
      this.stats.reads++;
      this.reads.set(key, {
        node: r.id,
        start: this.now,
        mustSee: this.checker.highWater,
        index: undefined,
      });
    }
    this.after(r);
  }

  private readState(r: Replica, rs: ReadState): void {
    const key = decoder.decode(rs.context);
    const read = this.reads.get(key);
    if (read === undefined || read.node !== r.id) return;
    if (rs.index < read.mustSee) {
      throw new InvariantViolation(
        'linearizable reads',
        `read ${key} on node ${r.id} (${this.params.readOnly}) got read index ${rs.index}, ` +
          `but index ${read.mustSee} was committed before the read began (tick ${read.start})`,
      );
    }
    read.index = rs.index;
  }

  private progressReads(): void {
    for (const [key, read] of this.reads) {
      const r = this.replicas.get(read.node)!;
      if (read.index !== undefined && r.sm.applied >= read.index) {
        // The state the read returns is the one every replica had at that index.
        this.checker.state(r.id, r.sm.applied, r.sm.hash);
        this.stats.readsCompleted++;
        this.reads.delete(key);
      } else if (this.now - read.start > 20 * this.params.electionTick) {
        this.reads.delete(key); // the client gives up; Raft promises no answer to every read
      }
    }
  }

  // ---- Faults -------------------------------------------------------------------------------

  private maybeFault(): void {
    if (!this.prng.chance(this.params.faultRate)) return;
    const total = FAULT_WEIGHTS.reduce((s, [, w]) => s + w, 0);
    let x = this.prng.next() * total;
    let kind: FaultKind = 'heal';
    for (const [k, w] of FAULT_WEIGHTS) {
      x -= w;
      if (x < 0) {
        kind = k;
        break;
      }
    }
    this.stats.faults++;
    this.stats.events++;
    this.fault(kind);
  }

  private members(): NodeId[] {
    return [...this.replicas.values()].filter((r) => !r.removed).map((r) => r.id);
  }

  private fault(kind: FaultKind): void {
    const leader = this.leader();
    switch (kind) {
      case 'partition': {
        const ids = this.prng.shuffle(this.members());
        if (ids.length < 2) return;
        const cut = this.prng.int(1, ids.length - 1);
        const a = ids.slice(0, cut);
        const b = ids.slice(cut);
        this.net.partition(a, b);
        this.log(`partition [${a.join(',')}] | [${b.join(',')}]`);
        return;
      }
      case 'isolate-leader': {
        if (leader === undefined) return;
        // Keep at most one follower connected: entries the leader appends from now on reach a
        // minority at most (the setting of the paper's Figure 8).
        const others = this.members().filter((id) => id !== leader.id);
        const keep = this.prng.chance(0.5) ? this.prng.pick(others) : undefined;
        this.net.partition(
          keep === undefined ? [leader.id] : [leader.id, keep],
          others.filter((id) => id !== keep),
        );
        this.log(`isolate leader ${leader.id}${keep === undefined ? '' : ` with ${keep}`}`);
        return;
      }
      case 'one-way': {
        const ids = this.members();
        if (ids.length < 2) return;
        const from = this.prng.pick(ids);
        const to = this.prng.pick(ids.filter((id) => id !== from));
        this.net.block(from, to);
        this.log(`block ${from} -> ${to}`);
        return;
      }
      case 'heal':
        if (this.net.partitioned) this.log('network heals');
        this.net.heal();
        return;
      case 'pause': {
        // Usually the leader: a paused leader whose lease ran out must not serve lease reads.
        const running = this.running().filter((r) => !r.removed);
        const r = leader !== undefined && this.prng.chance(0.6) ? leader : undefined;
        const target = r ?? (running.length > 0 ? this.prng.pick(running) : undefined);
        if (target === undefined) return;
        target.pausedUntil = this.now + this.prng.int(...this.params.pause);
        this.stats.pauses++;
        this.log(`node ${target.id} pauses until t=${target.pausedUntil}`);
        return;
      }
      case 'crash': {
        const live = this.live().filter((r) => !r.removed);
        if (live.length > 0) this.crash(this.prng.pick(live), 'fault');
        return;
      }
      case 'crash-leader-soon':
        // Crash the leader a moment after it sent appends: some followers got them, some not.
        if (leader !== undefined) leader.crashAt = this.now + this.prng.int(0, 3);
        return;
      case 'transfer': {
        if (leader === undefined) return;
        const voters = leader.raft!.status().confState.voters.filter((id) => id !== leader.id);
        if (voters.length === 0) return;
        const to = this.prng.pick(voters);
        const result = leader.raft!.transferLeadership(to);
        this.stats.transfers++;
        this.log(
          `leader ${leader.id} transfers leadership to ${to}: ${result.ok ? 'started' : result.reason}`,
        );
        this.after(leader);
        return;
      }
      case 'conf-change':
        if (leader !== undefined) this.changeMembership(leader);
        return;
      case 'compact': {
        const candidates = this.running().filter((r) => r.pending === undefined);
        if (candidates.length === 0) return;
        const r = this.prng.pick(candidates);
        const st = r.raft!.status();
        if (st.applied - (st.firstIndex - 1) < 5) return;
        r.disk.compact(r.raft!.compact(st.applied, encodeState(r.sm)));
        this.stats.compactions++;
        this.log(`node ${r.id} compacts its log up to ${st.applied}`);
        return;
      }
      case 'network': {
        const p = this.prng;
        this.net.faults = {
          ...this.net.faults,
          drop: p.next() * 0.15,
          duplicate: p.next() * 0.05,
          maxDelay: p.int(1, 4),
          longDelayChance: p.next() * 0.08,
          reorder: p.next() * 0.3,
        };
        this.log(
          `network: drop ${this.net.faults.drop.toFixed(3)}, max delay ${this.net.faults.maxDelay}`,
        );
        return;
      }
    }
  }

  private changeMembership(leader: Replica): void {
    const { voters, learners } = leader.raft!.status().confState;
    const options: ConfChange[] = [];
    if (voters.length + learners.length < 7)
      options.push({ type: 'add-learner', node: this.nextNodeId });
    for (const l of learners)
      options.push({ type: 'promote-learner', node: l }, { type: 'remove', node: l });
    if (voters.length > 3) for (const v of voters) options.push({ type: 'remove', node: v });
    if (options.length === 0) return;
    const change = this.prng.pick(options);
    const result = leader.raft!.proposeConfChange(change);
    this.log(
      `leader ${leader.id} proposes ${change.type} ${change.node}: ${result.ok ? `index ${result.index}` : result.reason}`,
    );
    if (!result.ok) return;
    this.stats.confChanges++;
    if (change.type === 'add-learner') {
      this.nextNodeId++;
      this.addReplica(change.node, false);
    }
    this.after(leader);
  }

  // ---- Healing and liveness -----------------------------------------------------------------

  private heal(): void {
    this.healTick = this.now;
    this.net.heal();
    this.net.faults = { ...CALM_NETWORK };
    this.log('HEAL: network repaired, every stopped replica restarts');
    for (const r of this.replicas.values()) {
      r.crashAt = undefined;
      if (r.pausedUntil !== undefined) this.resume(r);
      if (r.raft === undefined && !r.removed) this.restart(r);
    }
  }

  /** A leader that a majority of its voters follow in its term. */
  private recognizedLeader(): Replica | undefined {
    const leader = this.leader();
    if (leader === undefined) return undefined;
    const { term } = leader.raft!;
    const { voters } = leader.raft!.status().confState;
    const following = voters.filter((id) => {
      const raft = this.replicas.get(id)?.raft;
      return raft !== undefined && raft.term === term && raft.leader === leader.id;
    });
    return following.length > voters.length / 2 ? leader : undefined;
  }

  private checkLiveness(): void {
    const sinceHeal = this.now - this.healTick!;
    if (this.stats.leaderAfterHeal === undefined) {
      const bound = 20 * this.params.electionTick;
      const recognized = this.recognizedLeader();
      if (recognized !== undefined) {
        this.stats.leaderAfterHeal = sinceHeal;
        this.log(`leader ${recognized.id} recognized ${sinceHeal} ticks after healing`);
      } else if (sinceHeal > bound) {
        throw new InvariantViolation(
          'liveness',
          `no leader within ${bound} ticks after healing; ${this.describe()}`,
        );
      }
      return;
    }
    const leader = this.leader();
    if (leader === undefined) return;
    if (this.marker !== undefined && leader.raft!.termAt(this.marker.index) !== this.marker.term) {
      // Truncated by a leader change before it committed: propose it again.
      if (this.checker.appliedIdentity(this.marker.index) !== this.marker.identity)
        this.marker = undefined;
    }
    if (this.marker === undefined) {
      const data = encoder.encode(`final${this.nextCommand++}`);
      const result = leader.raft!.propose(data);
      if (!result.ok) return;
      this.marker = {
        index: result.index,
        term: result.term,
        identity: entryIdentity({ term: result.term, index: result.index, type: 'normal', data }),
      };
      this.log(`final command proposed at index ${result.index} on leader ${leader.id}`);
      this.after(leader);
      return;
    }
    const { voters, learners } = leader.raft!.status().confState;
    const members = [...voters, ...learners].map((id) => this.replicas.get(id));
    const lagging = members.filter(
      (r) => r?.raft !== undefined && r.sm.applied < this.marker!.index,
    );
    if (
      lagging.length === 0 &&
      this.checker.appliedIdentity(this.marker.index) === this.marker.identity
    ) {
      this.log(`final command applied on every member: done`);
      this.done = true;
    }
  }

  private describe(): string {
    const rows = [...this.replicas.values()].map((r) => {
      if (r.raft === undefined) return `${r.id}:${r.removed ? 'removed' : 'down'}`;
      const st = r.raft.status();
      return `${r.id}:${st.role}/t${st.term}/lead${st.leader}/commit${st.commit}/last${st.lastIndex}/applied${r.sm.applied}/voters[${st.confState.voters.join(',')}]`;
    });
    return `replicas ${rows.join(' ')}`;
  }
}

function describeMessage(m: Message): string {
  const base = `${m.type} ${m.from}->${m.to} t${m.term}`;
  switch (m.type) {
    case 'append':
      return `${base} prev=${m.index}@${m.logTerm} n=${m.entries.length} commit=${m.commit}`;
    case 'append-response':
      return `${base} index=${m.index}${m.reject ? ` REJECT hint=${m.rejectHint}@${m.rejectHintTerm}` : ''}`;
    case 'vote':
    case 'pre-vote':
      return `${base} last=${m.index}@${m.logTerm}${m.transfer ? ' transfer' : ''}`;
    case 'vote-response':
    case 'pre-vote-response':
      return `${base}${m.reject ? ' REJECT' : ' GRANT'}`;
    case 'heartbeat':
      return `${base} commit=${m.commit} round=${m.index}`;
    case 'heartbeat-response':
      return `${base} round=${m.index}`;
    case 'snapshot':
      return `${base} snap=${m.snapshot.metadata.index}@${m.snapshot.metadata.term}`;
    case 'read-index-response':
      return `${base} index=${m.index}`;
    default:
      return base;
  }
}
