// Data the Raft core shares with storage and transport. Plain values, no I/O:
// storage persists them, transport carries them, the core decides with them.

/** A replica's id in the group. Never 0: 0 means "none" in HardState.vote and leader hints. */
export type NodeId = number;

/** No node: no vote cast, no leader known. */
export const NONE: NodeId = 0;

export type EntryType = 'normal' | 'conf-change';

/** One log entry. Index and term start at 1; index 0 / term 0 is the empty log's sentinel. */
export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** The persistent state every server keeps (Raft paper, Figure 2), plus the commit index. */
export interface HardState {
  readonly term: number;
  /** Candidate voted for in `term`, or NONE. */
  readonly vote: NodeId;
  readonly commit: number;
}

/** Membership: the voters that form quorums and the learners that only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

export interface SnapshotMetadata {
  /** Index and term of the last entry the snapshot covers. */
  readonly index: number;
  readonly term: number;
  /** Membership as of `index`. */
  readonly confState: ConfState;
}

/** A state machine image replacing the log up to metadata.index (Raft paper §7). */
export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  readonly data: Uint8Array;
}
