import type { catfeederV1 } from '@catmesh/proto';
import { catfeederStorageV1 } from '@catmesh/proto';

type Command = catfeederStorageV1.Command;
type CommandResult = catfeederStorageV1.CommandResult;
type KeyValue = catfeederV1.KeyValue;

/** One change to the store, as Watch delivers it. */
export interface ChangeEvent {
  readonly type: 'put' | 'delete';
  /** For a delete: the key, an empty value, and mod_revision = the deleting revision. */
  readonly kv: KeyValue;
}

/** What applying one committed command did. */
export type ApplyOutcome =
  | {
      readonly kind: 'applied';
      readonly result: CommandResult;
      readonly events: readonly ChangeEvent[];
    }
  /** A retry of a write already applied: its original result, nothing changed. */
  | { readonly kind: 'duplicate'; readonly result: CommandResult }
  /** A retry older than the session remembers: whether it applied can no longer be told. */
  | { readonly kind: 'expired'; readonly oldestRemembered: number }
  | { readonly kind: 'invalid'; readonly reason: string };

export interface KvStoreLimits {
  /** Results remembered per client for de-duplication (the window of concurrent retries). */
  readonly resultsPerClient: number;
  /** Client sessions remembered; the least recently active is forgotten first. */
  readonly maxSessions: number;
}

export const DEFAULT_KV_STORE_LIMITS: KvStoreLimits = {
  resultsPerClient: 512,
  maxSessions: 10_000,
};

interface Session {
  lastIndex: number;
  /** sequence → result, oldest first (Map keeps insertion order). */
  readonly results: Map<number, CommandResult>;
}

/**
 * The cat-feeder state machine: a map with a global revision like etcd's, and
 * client sessions that make retried writes apply once (Raft dissertation §6.3).
 * Every replica applies the same commands in log order, so everything here,
 * eviction included, is a pure function of that order.
 */
export class KvStore {
  private readonly data = new Map<string, KeyValue>();
  private readonly sessions = new Map<string, Session>();
  /** Members added by configuration changes: id → address (founders come from config). */
  private readonly members = new Map<number, string>();
  private rev = 0;

  constructor(private readonly limits: KvStoreLimits = DEFAULT_KV_STORE_LIMITS) {}

  get revision(): number {
    return this.rev;
  }

  get size(): number {
    return this.data.size;
  }

  get(key: string): KeyValue | undefined {
    return this.data.get(key);
  }

  /** Keys starting with `prefix`, in key order; `limit` 0 means all. */
  range(prefix: string, limit: number): { kvs: KeyValue[]; more: boolean } {
    const matching = [...this.data.values()]
      .filter((kv) => kv.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    if (limit > 0 && matching.length > limit) return { kvs: matching.slice(0, limit), more: true };
    return { kvs: matching, more: false };
  }

  /** Applies the command committed at Raft log `index`. */
  apply(index: number, command: Command): ApplyOutcome {
    const requestId = command.requestId;
    const session = requestId ? this.sessions.get(requestId.clientId) : undefined;
    if (requestId && session) {
      const previous = session.results.get(requestId.sequence);
      if (previous) return { kind: 'duplicate', result: previous };
      const oldest = session.results.keys().next();
      if (
        !oldest.done &&
        session.results.size >= this.limits.resultsPerClient &&
        requestId.sequence < oldest.value
      ) {
        return { kind: 'expired', oldestRemembered: oldest.value };
      }
    }

    const outcome = this.execute(command);
    if (outcome.kind !== 'applied') return outcome;
    if (requestId) this.remember(index, requestId, outcome.result);
    return outcome;
  }

  private execute(command: Command): ApplyOutcome {
    const op = command.op;
    switch (op?.$case) {
      case 'put':
        return this.put(op.value.key, op.value.value);
      case 'delete':
        return this.delete(op.value.key);
      case 'compareAndSwap':
        return this.compareAndSwap(op.value);
      case undefined:
        return { kind: 'invalid', reason: 'command has no operation' };
    }
  }

  private put(key: string, value: Buffer): ApplyOutcome {
    this.rev += 1;
    const previous = this.data.get(key);
    const kv: KeyValue = {
      key,
      value,
      createRevision: previous?.createRevision ?? this.rev,
      modRevision: this.rev,
      version: (previous?.version ?? 0) + 1,
    };
    this.data.set(key, kv);
    return {
      kind: 'applied',
      result: { revision: this.rev, changed: true, kv },
      events: [{ type: 'put', kv }],
    };
  }

  private delete(key: string): ApplyOutcome {
    const previous = this.data.get(key);
    if (!previous) {
      return {
        kind: 'applied',
        result: { revision: this.rev, changed: false, kv: undefined },
        events: [],
      };
    }
    this.rev += 1;
    this.data.delete(key);
    const tombstone: KeyValue = {
      key,
      value: Buffer.alloc(0),
      createRevision: previous.createRevision,
      modRevision: this.rev,
      version: 0,
    };
    return {
      kind: 'applied',
      result: { revision: this.rev, changed: true, kv: undefined },
      events: [{ type: 'delete', kv: tombstone }],
    };
  }

  private compareAndSwap(op: catfeederStorageV1.CompareAndSwapOp): ApplyOutcome {
    const current = this.data.get(op.key);
    const expected = op.expected;
    let holds: boolean;
    switch (expected?.$case) {
      case 'expectedValue':
        holds = current !== undefined && current.value.equals(expected.value);
        break;
      case 'expectedModRevision':
        holds = current !== undefined && current.modRevision === expected.value;
        break;
      case 'expectedAbsent':
        holds = current === undefined;
        break;
      case undefined:
        return { kind: 'invalid', reason: 'compare-and-swap has no expectation' };
    }
    if (!holds) {
      return {
        kind: 'applied',
        result: { revision: this.rev, changed: false, kv: current },
        events: [],
      };
    }
    return this.put(op.key, op.newValue);
  }

  private remember(index: number, requestId: catfeederV1.RequestId, result: CommandResult): void {
    let session = this.sessions.get(requestId.clientId);
    if (session) {
      // Re-insert so that the Map's order is least recently active first.
      this.sessions.delete(requestId.clientId);
    } else {
      session = { lastIndex: index, results: new Map() };
    }
    session.lastIndex = index;
    session.results.set(requestId.sequence, result);
    while (session.results.size > this.limits.resultsPerClient) {
      const oldest = session.results.keys().next();
      if (oldest.done) break;
      session.results.delete(oldest.value);
    }
    this.sessions.set(requestId.clientId, session);
    while (this.sessions.size > this.limits.maxSessions) {
      const leastRecent = this.sessions.keys().next();
      if (leastRecent.done) break;
      this.sessions.delete(leastRecent.value);
    }
  }

  /** Records a committed membership change, so snapshots carry the address book. */
  setMemberAddress(id: number, address: string | undefined): void {
    if (address === undefined) this.members.delete(id);
    else this.members.set(id, address);
  }

  memberAddresses(): ReadonlyMap<number, string> {
    return this.members;
  }

  /** The whole state machine as a Raft snapshot payload. */
  snapshot(): Uint8Array {
    const kvs = [...this.data.values()];
    const sessions: catfeederStorageV1.ClientSession[] = [...this.sessions].map(
      ([clientId, s]) => ({
        clientId,
        lastIndex: s.lastIndex,
        results: [...s.results].map(([sequence, result]) => ({ sequence, result })),
      }),
    );
    return catfeederStorageV1.StoreSnapshot.encode({
      revision: this.rev,
      kvs,
      sessions,
      memberAddresses: Object.fromEntries(this.members),
    }).finish();
  }

  /** Replaces the whole state with a snapshot's. */
  restore(snapshot: Uint8Array): void {
    const decoded = catfeederStorageV1.StoreSnapshot.decode(snapshot);
    this.data.clear();
    this.sessions.clear();
    this.members.clear();
    this.rev = decoded.revision;
    for (const [id, address] of Object.entries(decoded.memberAddresses)) {
      this.members.set(Number(id), address);
    }
    for (const kv of decoded.kvs) this.data.set(kv.key, kv);
    for (const s of decoded.sessions) {
      const results = new Map<number, CommandResult>();
      for (const r of s.results) if (r.result) results.set(r.sequence, r.result);
      this.sessions.set(s.clientId, { lastIndex: s.lastIndex, results });
    }
  }
}
