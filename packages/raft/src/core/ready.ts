// What the core hands the application between two advance() calls, and the order it must be
// handled in (ARCHITECTURE.md rule 2):
//
//   1. persist `snapshot` (if any: it replaces the stored log), then `entries` (the first entry's
//      index is where the stored log is cut before appending: a conflicting suffix is replaced),
//      then `hardState`, and make them durable (fsync) when `mustSync`;
//   2. only then send `messages`: they promise what was just persisted (votes, acknowledgements),
//      unless `sendBeforePersisting` says they may go out while step 1 is under way;
//   3. restore the state machine from `snapshot` (if any), then apply `committedEntries` in order
//      (an empty normal entry is the no-op a new leader appends: apply it as nothing);
//   4. serve `readStates`: a read with that context may be answered once the state machine has
//      applied at least `index`;
//   5. call advance(ready).
import type { Message } from './message.js';
import type { Entry, HardState, NodeId, Snapshot } from './types.js';

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state worth showing (dashboard, logs); not persisted. */
export interface SoftState {
  readonly leader: NodeId;
  readonly role: Role;
}

/** A confirmed read: answer the read with `context` from state at or after `index` (§6.4). */
export interface ReadState {
  readonly index: number;
  readonly context: Uint8Array;
}

export interface Ready {
  /** Present when leader or role changed since the last Ready. */
  readonly softState: SoftState | undefined;
  /** Present when term, vote or commit changed since the last Ready. */
  readonly hardState: HardState | undefined;
  /** A snapshot from the leader to persist and restore the state machine from. */
  readonly snapshot: Snapshot | undefined;
  /** Entries to persist; the stored log is truncated at entries[0].index first. */
  readonly entries: readonly Entry[];
  /** Entries to apply, in order, after persisting this Ready. */
  readonly committedEntries: readonly Entry[];
  /** Messages to send once this Ready's state is durable. */
  readonly messages: readonly Message[];
  readonly readStates: readonly ReadState[];
  /** Whether persisting must fsync: new entries, a snapshot, or a new term or vote. */
  readonly mustSync: boolean;
  /**
   * The messages promise nothing this Ready persists, so they may be sent before or while it is
   * persisted (thesis §10.2.1: the leader writes its log in parallel with replicating it). True
   * only for a leader whose term and vote are unchanged and that received no snapshot: its
   * appends carry entries it does not count for itself until advance() says they are durable.
   */
  readonly sendBeforePersisting: boolean;
}
