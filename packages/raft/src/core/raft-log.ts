// The core's view of the log: the latest snapshot followed by the entries after it, with marks
// for what storage has made durable (`stable`), what is committed, and what the application has
// been handed (`applying`) and has acknowledged (`applied`). Storage holds the durable copy; this
// copy is what the core reads from, so the core never waits on I/O.
import type { Entry, Snapshot } from './types.js';

/** Raised when a Raft invariant would break: a bug or corrupted input, never a normal event. */
export class RaftInvariantError extends Error {
  override readonly name = 'RaftInvariantError';
}

export interface LogAppend {
  /** Index from which existing entries were replaced, if any were. */
  readonly truncatedFrom: number | undefined;
}

export class RaftLog {
  private snap: Snapshot;
  private ents: Entry[];
  /** Highest index that storage holds durably (entries up to it came in an advanced Ready). */
  private stable: number;
  /** A snapshot from the leader that storage has not persisted yet. */
  private unstableSnap: Snapshot | undefined;
  committed: number;
  /** Highest index the application acknowledged as applied (Ready advanced). */
  applied: number;
  /** Highest index handed to the application in a Ready. */
  applying: number;

  constructor(
    snapshot: Snapshot,
    stableEntries: readonly Entry[],
    committed: number,
    applied: number,
  ) {
    this.snap = snapshot;
    this.ents = [...stableEntries];
    this.stable = this.lastIndex;
    this.unstableSnap = undefined;
    this.committed = committed;
    this.applied = applied;
    this.applying = applied;
  }

  get snapshot(): Snapshot {
    return this.snap;
  }

  get snapshotIndex(): number {
    return this.snap.metadata.index;
  }

  get firstIndex(): number {
    return this.snap.metadata.index + 1;
  }

  get lastIndex(): number {
    return this.snap.metadata.index + this.ents.length;
  }

  get lastTerm(): number {
    return this.ents[this.ents.length - 1]?.term ?? this.snap.metadata.term;
  }

  /** Term of the entry at `index`, or undefined when it is compacted or beyond the log. */
  term(index: number): number | undefined {
    const s = this.snap.metadata.index;
    if (index === s) return this.snap.metadata.term;
    if (index < s) return undefined;
    return this.ents[index - s - 1]?.term;
  }

  entry(index: number): Entry | undefined {
    return this.ents[index - this.snap.metadata.index - 1];
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** §5.4.1: a candidate's log is at least as up-to-date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ours = this.lastTerm;
    return lastTerm > ours || (lastTerm === ours && lastIndex >= this.lastIndex);
  }

  /**
   * The largest index at or below `index` whose term is at most `term`, with that term: no entry
   * between it and `index` can match a log whose entry at `index` has term `term` (terms only grow
   * along a log). An index whose term is unknown (compacted, or beyond the log) is returned with
   * term 0: it may match.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i > 0; i--) {
      const t = this.term(i);
      if (t === undefined) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  /**
   * The follower side of AppendEntries (§5.3): if our entry at prevIndex has prevTerm, append the
   * entries that are new, replacing a conflicting suffix, and commit up to what the leader has
   * shown to match. Returns undefined when the consistency check fails.
   */
  maybeAppend(
    prevIndex: number,
    prevTerm: number,
    commit: number,
    entries: readonly Entry[],
  ):
    { lastNew: number; appended: readonly Entry[]; truncatedFrom: number | undefined } | undefined {
    if (!this.matchTerm(prevIndex, prevTerm)) return undefined;
    const lastNew = prevIndex + entries.length;
    let appended: readonly Entry[] = [];
    let truncatedFrom: number | undefined;
    const conflict = entries.findIndex((e) => !this.matchTerm(e.index, e.term));
    if (conflict >= 0) {
      const first = entries[conflict]!;
      if (first.index <= this.committed) {
        throw new RaftInvariantError(
          `entry ${first.index} (term ${first.term}) conflicts with committed entry ` +
            `(term ${this.term(first.index)}, commit ${this.committed})`,
        );
      }
      appended = entries.slice(conflict);
      truncatedFrom = this.append(appended).truncatedFrom;
    }
    this.commitTo(Math.min(commit, lastNew));
    return { lastNew, appended, truncatedFrom };
  }

  /** Appends entries that start at or before lastIndex+1, replacing whatever they overlap. */
  append(entries: readonly Entry[]): LogAppend {
    const first = entries[0];
    if (first === undefined) return { truncatedFrom: undefined };
    const last = this.lastIndex;
    if (first.index > last + 1 || first.index <= this.snap.metadata.index) {
      throw new RaftInvariantError(
        `cannot append entry ${first.index} to a log holding ${this.firstIndex}..${last}`,
      );
    }
    if (first.index <= this.committed) {
      throw new RaftInvariantError(`cannot overwrite committed entry ${first.index}`);
    }
    let truncatedFrom: number | undefined;
    if (first.index <= last) {
      truncatedFrom = first.index;
      this.ents.length = first.index - this.firstIndex;
      this.stable = Math.min(this.stable, first.index - 1);
    }
    for (const e of entries) this.ents.push(e);
    return { truncatedFrom };
  }

  /** Entries in [lo, hi), at most maxCount and about maxBytes of data, but at least one. */
  slice(lo: number, hi: number, maxCount: number, maxBytes: number): Entry[] {
    const out: Entry[] = [];
    let bytes = 0;
    const end = Math.min(hi, this.lastIndex + 1);
    for (let i = lo; i < end && out.length < maxCount; i++) {
      const e = this.entry(i);
      if (e === undefined) break;
      bytes += e.data.byteLength;
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    if (index > this.lastIndex) {
      throw new RaftInvariantError(`commit ${index} is beyond the last index ${this.lastIndex}`);
    }
    this.committed = index;
  }

  hasUnstable(): boolean {
    return this.stable < this.lastIndex;
  }

  unstableEntries(): Entry[] {
    return this.ents.slice(this.stable - this.snap.metadata.index);
  }

  /** Storage made entries up to (index, term) durable, unless the log changed meanwhile. */
  stableTo(index: number, term: number): void {
    if (index > this.stable && this.matchTerm(index, term)) this.stable = index;
  }

  get pendingSnapshot(): Snapshot | undefined {
    return this.unstableSnap;
  }

  snapshotStable(index: number): void {
    if (this.unstableSnap?.metadata.index === index) this.unstableSnap = undefined;
  }

  hasNextCommitted(): boolean {
    return this.committed > this.applying;
  }

  /** Committed entries not yet handed to the application; marks them as being applied. */
  takeCommitted(): Entry[] {
    const lo = Math.max(this.applying + 1, this.firstIndex);
    const out = this.ents.slice(lo - this.firstIndex, this.committed - this.snap.metadata.index);
    this.applying = this.committed;
    return out;
  }

  appliedTo(index: number): void {
    if (index > this.applied) this.applied = index;
  }

  /** Replaces the whole log with a snapshot from the leader (§7): a follower's restore. */
  restore(snapshot: Snapshot): void {
    this.snap = snapshot;
    this.ents = [];
    this.stable = snapshot.metadata.index;
    this.unstableSnap = snapshot;
    this.committed = snapshot.metadata.index;
    this.applying = Math.max(this.applying, snapshot.metadata.index);
  }

  /** Discards entries up to the snapshot's index, which the application took at that index. */
  compact(snapshot: Snapshot): void {
    const drop = snapshot.metadata.index - this.snap.metadata.index;
    this.ents = this.ents.slice(drop);
    this.snap = snapshot;
  }

  get stableIndex(): number {
    return this.stable;
  }
}
