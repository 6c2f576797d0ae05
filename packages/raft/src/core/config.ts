// Configuration of one Raft replica, checked once when the replica is created.
import type { ConfState, Entry, HardState, NodeId, Snapshot } from './types.js';

export type ReadOnlyMode = 'safe' | 'lease-based';

/** What storage recovered: the state this replica persisted before it stopped. */
export interface PersistedState {
  readonly hardState: HardState;
  /** Latest snapshot; entries up to its index are gone from the log. */
  readonly snapshot?: Snapshot | undefined;
  /** Log entries after the snapshot (entries at or below its index are ignored). */
  readonly entries: readonly Entry[];
}

export interface RaftConfig {
  /** This replica's id, never 0. */
  readonly id: NodeId;
  /**
   * Ticks without hearing from a leader before a follower campaigns; the actual timeout is drawn
   * from [electionTick, 2 * electionTick) each time (§5.2). Must exceed heartbeatTick.
   */
  readonly electionTick: number;
  /** Ticks between leader heartbeats. */
  readonly heartbeatTick: number;
  /** Uniform in [0, 1): seeds the randomized election timeout. Inject a seeded source to replay. */
  readonly random: () => number;
  /** Recovered state; absent or empty for a replica that has never run. */
  readonly storage?: PersistedState | undefined;
  /**
   * Initial membership of a brand-new cluster. Used only when storage is empty: the replica then
   * starts with one committed conf-change entry (index 1, term 1) holding this membership, which
   * every founding member must be given identically. A replica joining an existing cluster gets
   * neither storage nor bootstrap and learns the membership from the leader.
   */
  readonly bootstrap?: ConfState | undefined;
  /** Index the application's state already reflects (default: the snapshot's index). */
  readonly applied?: number | undefined;
  /** Probe electability before disrupting the cluster with a new term (§9.6). Default true. */
  readonly preVote?: boolean | undefined;
  /**
   * Leader steps down when it has not heard from a quorum within an election timeout, and
   * followers ignore vote requests while they hear from a leader (§6.2, §4.2.3). Default true.
   */
  readonly checkQuorum?: boolean | undefined;
  /** Unacknowledged append messages per follower in replicate state. Default 256. */
  readonly maxInflightMsgs?: number | undefined;
  /** Entries per append message. Default 1024. */
  readonly maxEntriesPerMsg?: number | undefined;
  /** Entry data bytes per append message (one entry is always sent). Default 1 MiB. */
  readonly maxBytesPerMsg?: number | undefined;
  /**
   * How reads are confirmed: 'safe' confirms leadership with a heartbeat round per ReadIndex
   * (§6.4); 'lease-based' answers from the leader's lease while it holds (§6.4.1), which assumes
   * clocks tick at the same rate and requires checkQuorum. Every replica of a cluster must use
   * the same mode. Default 'safe'.
   */
  readonly readOnly?: ReadOnlyMode | undefined;
  /**
   * Keep leader leases (§6.4.1) so the application can serve chosen reads from the lease
   * (RaftNode.hasValidLease) while ReadIndex stays the default: the leader tracks when a quorum
   * last confirmed it, and a restarted voter refuses votes for an election timeout, since it
   * forgot whom it acknowledged. Requires checkQuorum; implied by readOnly 'lease-based'; every
   * replica of a cluster must agree. Default false.
   */
  readonly leaseReads?: boolean | undefined;
}

export interface ResolvedConfig {
  readonly id: NodeId;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly random: () => number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly maxInflightMsgs: number;
  readonly maxEntriesPerMsg: number;
  readonly maxBytesPerMsg: number;
  readonly readOnly: ReadOnlyMode;
  readonly leaseReads: boolean;
}

/** A configuration the core refuses; the message names the field. */
export class RaftConfigError extends Error {
  override readonly name = 'RaftConfigError';
}

function positiveInt(field: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) {
    throw new RaftConfigError(`${field}: must be a positive integer, got ${value}`);
  }
  return value;
}

export function resolveConfig(c: RaftConfig): ResolvedConfig {
  positiveInt('id', c.id);
  const heartbeatTick = positiveInt('heartbeatTick', c.heartbeatTick);
  const electionTick = positiveInt('electionTick', c.electionTick);
  if (electionTick <= heartbeatTick) {
    throw new RaftConfigError(
      `electionTick: must be greater than heartbeatTick (${heartbeatTick}), got ${electionTick}`,
    );
  }
  if (typeof c.random !== 'function') throw new RaftConfigError('random: must be a function');
  const checkQuorum = c.checkQuorum ?? true;
  const readOnly = c.readOnly ?? 'safe';
  if (readOnly !== 'safe' && readOnly !== 'lease-based') {
    throw new RaftConfigError(`readOnly: must be 'safe' or 'lease-based', got ${String(readOnly)}`);
  }
  if (readOnly === 'lease-based' && !checkQuorum) {
    throw new RaftConfigError(
      "readOnly: 'lease-based' requires checkQuorum, or a deposed leader could serve stale reads",
    );
  }
  if (c.leaseReads === true && !checkQuorum) {
    throw new RaftConfigError(
      'leaseReads: requires checkQuorum, or a deposed leader could serve stale reads',
    );
  }
  return {
    id: c.id,
    electionTick,
    heartbeatTick,
    random: c.random,
    preVote: c.preVote ?? true,
    checkQuorum,
    maxInflightMsgs: positiveInt('maxInflightMsgs', c.maxInflightMsgs ?? 256),
    maxEntriesPerMsg: positiveInt('maxEntriesPerMsg', c.maxEntriesPerMsg ?? 1024),
    maxBytesPerMsg: positiveInt('maxBytesPerMsg', c.maxBytesPerMsg ?? 1024 * 1024),
    readOnly,
    leaseReads: c.leaseReads === true || readOnly === 'lease-based',
  };
}
