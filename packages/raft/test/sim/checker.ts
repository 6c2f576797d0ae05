// Raft's safety properties (paper Figure 3), checked against everything the simulated replicas
// do: global registries of leaders per term, entries per (index, term), committed and applied
// entries, and state machine states per index.
import type { Entry, NodeId } from '../../src/core/index.js';

export class InvariantViolation extends Error {
  override readonly name = 'InvariantViolation';
  constructor(
    readonly invariant: string,
    detail: string,
  ) {
    super(`${invariant}: ${detail}`);
  }
}

/** A printable identity of an entry: its type, term and data. */
export function entryIdentity(e: Entry): string {
  let data = '';
  for (let i = 0; i < e.data.byteLength; i++) data += String.fromCharCode(e.data[i]!);
  return `${e.type === 'normal' ? 'n' : 'c'}@${e.term}:${JSON.stringify(data)}`;
}

/** The slice of a replica the checker reads. */
export interface ReplicaView {
  readonly id: NodeId;
  readonly term: number;
  readonly firstIndex: number;
  termAt(index: number): number | undefined;
}

interface CommittedRecord {
  readonly term: number;
  /** Term of the replica that first reported the commit: the commit happened in it or before. */
  readonly observedTerm: number;
}

export class SafetyChecker {
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly entries = new Map<string, { prevTerm: number | undefined; identity: string }>();
  private readonly committed: (CommittedRecord | undefined)[] = [];
  private readonly applied: (string | undefined)[] = [];
  private readonly states: (number | undefined)[] = [];
  /** Highest index known committed anywhere so far. */
  highWater = 0;

  /** Election Safety: at most one leader per term. */
  leader(id: NodeId, term: number): void {
    const known = this.leaderOfTerm.get(term);
    if (known === undefined) this.leaderOfTerm.set(term, id);
    else if (known !== id) {
      throw new InvariantViolation(
        'election safety',
        `nodes ${known} and ${id} are both leaders of term ${term}`,
      );
    }
  }

  /**
   * Leader Completeness: a new leader holds every entry committed in an earlier term (its log
   * may start later, past a snapshot, which covers what it dropped).
   */
  newLeader(r: ReplicaView): void {
    for (let i = Math.max(r.firstIndex, 1); i < this.committed.length; i++) {
      const c = this.committed[i];
      if (c === undefined || c.observedTerm >= r.term) continue;
      const t = r.termAt(i);
      if (t !== c.term) {
        throw new InvariantViolation(
          'leader completeness',
          `leader ${r.id} of term ${r.term} has ${t === undefined ? 'no entry' : `term ${t}`} ` +
            `at index ${i}, committed with term ${c.term}`,
        );
      }
    }
  }

  /**
   * Log Matching: entries with the same index and term are the same entry and follow the same
   * entry. Checking the predecessor's term for every entry extends this, by induction, to the
   * whole prefix.
   */
  logEntries(id: NodeId, entries: readonly Entry[], prevTermOfFirst: number | undefined): void {
    let prevTerm = prevTermOfFirst;
    for (const e of entries) {
      const key = `${e.index}:${e.term}`;
      const identity = entryIdentity(e);
      const known = this.entries.get(key);
      if (known === undefined) {
        this.entries.set(key, { prevTerm, identity });
      } else if (known.identity !== identity) {
        throw new InvariantViolation(
          'log matching',
          `node ${id} holds ${identity} at index ${e.index}, another node ${known.identity}`,
        );
      } else if (
        prevTerm !== undefined &&
        known.prevTerm !== undefined &&
        known.prevTerm !== prevTerm
      ) {
        throw new InvariantViolation(
          'log matching',
          `node ${id}: entry ${key} follows an entry of term ${prevTerm}, elsewhere term ${known.prevTerm}`,
        );
      } else if (known.prevTerm === undefined && prevTerm !== undefined) {
        this.entries.set(key, { prevTerm, identity });
      }
      prevTerm = e.term;
    }
  }

  /** Committed entries never change: every replica's committed prefix agrees. */
  committedUpTo(r: ReplicaView, from: number, to: number): void {
    for (let i = from; i <= to; i++) {
      const t = r.termAt(i);
      if (t === undefined) continue; // compacted into a snapshot
      const c = this.committed[i];
      if (c === undefined) {
        this.committed[i] = { term: t, observedTerm: r.term };
      } else if (c.term !== t) {
        throw new InvariantViolation(
          'committed entries are permanent',
          `node ${r.id} committed index ${i} with term ${t}, earlier committed with term ${c.term}`,
        );
      }
    }
    if (to > this.highWater) this.highWater = to;
  }

  /** State Machine Safety: no two replicas apply different entries at the same index. */
  apply(id: NodeId, e: Entry, stateAfter: number): void {
    const identity = entryIdentity(e);
    const known = this.applied[e.index];
    if (known === undefined) this.applied[e.index] = identity;
    else if (known !== identity) {
      throw new InvariantViolation(
        'state machine safety',
        `node ${id} applied ${identity} at index ${e.index}, another node applied ${known}`,
      );
    }
    this.state(id, e.index, stateAfter);
  }

  /** Replicas that applied the same prefix hold the same state (also for restored snapshots). */
  state(id: NodeId, index: number, state: number): void {
    const known = this.states[index];
    if (known === undefined) this.states[index] = state;
    else if (known !== state) {
      throw new InvariantViolation(
        'state machine safety',
        `node ${id} has state ${state} at index ${index}, another node had ${known}`,
      );
    }
  }

  appliedIdentity(index: number): string | undefined {
    return this.applied[index];
  }

  stateAt(index: number): number | undefined {
    return this.states[index];
  }
}
