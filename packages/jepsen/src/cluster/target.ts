import type { LocalHost, ProcessSpec } from '@catmesh/faults';
import type { ReadConsistency, TargetName } from '../check-options.js';

// What the harness needs from a system under test: how to run one member, and a client for it.
// One implementation per target (cat-feeder, etcd); everything else is shared.

/** Who sends a write: the servers that de-duplicate retries (cat-feeder) key on it. */
export interface WriteId {
  readonly client: string;
  readonly sequence: number;
}

/** A connection to one member. Every call carries its own deadline. */
export interface MemberApi {
  /** The key's value, null when absent. */
  get(key: string, consistency: ReadConsistency, timeoutMs: number): Promise<string | null>;
  put(key: string, value: string, id: WriteId, timeoutMs: number): Promise<void>;
  /** Writes `value` if the key holds `expected` (null: is absent); false when it did not. */
  cas(
    key: string,
    expected: string | null,
    value: string,
    id: WriteId,
    timeoutMs: number,
  ): Promise<boolean>;
  /** The host name of the leader this member follows, undefined when it knows none. */
  leader(timeoutMs: number): Promise<string | undefined>;
  /** Every key and value the member holds, read locally (no quorum involved). */
  localState(timeoutMs: number): Promise<ReadonlyMap<string, string>>;
  close(): void;
}

export interface TargetDriver {
  readonly name: TargetName;
  /** The command that runs `host` as a member of a cluster of `hosts`, data under `dataDir`. */
  processSpec(host: LocalHost, hosts: readonly LocalHost[], dataDir: string): ProcessSpec;
  /**
   * Where `host`'s member keeps its power-loss undo journal (PowerLossJournalFs), if the target
   * has one: then a power loss can be played by rolling it back after kill -9. etcd has none.
   */
  readonly powerLossJournal?: (host: LocalHost, dataDir: string) => string;
  /** A client of `host`, one member of `hosts`. */
  connect(host: LocalHost, hosts: readonly LocalHost[]): MemberApi;
  /**
   * Whether a write's error proves the write had no effect. Anything else (a timeout, a dropped
   * connection, a leader that stepped down) leaves the outcome unknown.
   */
  writeNotApplied(error: unknown): boolean;
}
