// The leader's view of one follower's log and the flow control of appends to it.
//
// probe:     the leader does not know where the follower's log matches; it sends one append and
//            waits for the answer (or the next heartbeat response) before sending another.
// replicate: the follower matched; the leader streams appends optimistically (pipelining), at
//            most maxInflight unacknowledged messages at a time.
// snapshot:  the follower needs entries the leader compacted; nothing is sent until the snapshot
//            is acknowledged or reported failed.
import type { NodeId } from './types.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

/** A bounded window of the last indexes of in-flight append messages, oldest first. */
export class Inflights {
  private readonly buffer: number[];
  private start = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    this.buffer = new Array<number>(capacity).fill(0);
  }

  get size(): number {
    return this.count;
  }

  full(): boolean {
    return this.count === this.capacity;
  }

  add(lastIndex: number): void {
    if (this.full()) throw new RangeError('inflight window is full');
    this.buffer[(this.start + this.count) % this.capacity] = lastIndex;
    this.count++;
  }

  /** Frees every message whose last index is at or below `index` (acknowledged). */
  freeLE(index: number): void {
    while (this.count > 0 && this.buffer[this.start]! <= index) {
      this.start = (this.start + 1) % this.capacity;
      this.count--;
    }
  }

  /** Frees the oldest message, so a window whose messages were all lost can make progress. */
  freeFirstOne(): void {
    if (this.count === 0) return;
    this.start = (this.start + 1) % this.capacity;
    this.count--;
  }

  reset(): void {
    this.start = 0;
    this.count = 0;
  }
}

export class Progress {
  match = 0;
  next: number;
  state: ProgressState = 'probe';
  /** In snapshot state: the index of the snapshot sent. */
  pendingSnapshot = 0;
  /** In probe state: an append is outstanding, wait for its answer or a heartbeat response. */
  probeSent = false;
  /** Heard from since the last CheckQuorum round. */
  recentActive = false;
  /** The commit index last sent to this follower. */
  sentCommit = 0;
  /** Highest heartbeat round this follower acknowledged in the current term. */
  ackedRound = 0;
  /** Leader tick at which a message from this follower last arrived. */
  lastContactTick: number;
  readonly inflights: Inflights;

  constructor(
    readonly id: NodeId,
    next: number,
    maxInflight: number,
    public isLearner: boolean,
    nowTick: number,
  ) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
    this.lastContactTick = nowTick;
  }

  becomeProbe(): void {
    // After a snapshot, probe from the snapshot's index: the follower has at least that much
    // unless the snapshot failed (then pendingSnapshot was cleared first).
    this.next =
      this.state === 'snapshot'
        ? Math.max(this.match + 1, this.pendingSnapshot + 1)
        : this.match + 1;
    this.state = 'probe';
    this.pendingSnapshot = 0;
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.pendingSnapshot = 0;
    this.probeSent = false;
    this.inflights.reset();
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.probeSent = false;
    this.inflights.reset();
  }

  /** An accepted append up to `index`; returns whether the match index grew. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      this.probeSent = false;
      updated = true;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /**
   * A rejected append whose prevLogIndex was `rejected`, with the leader's next probe position
   * `matchHint` derived from the follower's hint. Returns false for a stale rejection.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.sentCommit = Math.min(this.sentCommit, this.next - 1);
      return true;
    }
    // In probe state only the latest probe (at next-1) is outstanding; others are stale.
    if (this.next - 1 !== rejected) return false;
    if (matchHint < this.match) {
      // The follower no longer holds entries it acknowledged: it lost its log (a wiped data
      // directory). Start over from what it says it holds; a snapshot if that is compacted away.
      this.match = 0;
    }
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.sentCommit = Math.min(this.sentCommit, this.next - 1);
    this.probeSent = false;
    return true;
  }

  /** Flow control after sending an append whose entries end at `lastIndex` (0: no entries). */
  sentEntries(count: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.probeSent = true;
    }
  }

  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.probeSent;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
