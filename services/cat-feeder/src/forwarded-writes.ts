// The writes a follower has sent to the leader over Raft and waits to apply, by idempotency key:
// each is answered when an entry with its key is applied here, or failed when its fate can no
// longer be seen here (a leader change, a snapshot, too long a wait).
import type { catfeederStorageV1 } from '@catmesh/proto';
import type { ApplyOutcome } from './kv-store.js';

type RequestId = NonNullable<catfeederStorageV1.Command['requestId']>;

/** How a forwarded write is recognised when it is applied: its idempotency key. */
export const forwardKey = (id: RequestId): string => `${id.clientId}\u0000${id.sequence}`;

/** A write on its way to the leader, waiting to be applied here under its request id. */
export interface ForwardedWrite {
  readonly key: string;
  readonly data: Uint8Array;
  readonly resolve: (outcome: ApplyOutcome) => void;
  readonly reject: (error: Error) => void;
}

export interface SentForward extends ForwardedWrite {
  readonly leader: number;
  readonly sentTick: number;
}

export class ForwardedWrites {
  /** Usually one write a key; more when a client sends a retry before the first has applied. */
  private readonly byKey = new Map<string, SentForward[]>();
  private waiting = 0;

  /** The writes waiting, each one counted (a cap on pending writes counts these). */
  get size(): number {
    return this.waiting;
  }

  add(write: SentForward): void {
    const same = this.byKey.get(write.key);
    if (same) same.push(write);
    else this.byKey.set(write.key, [write]);
    this.waiting += 1;
  }

  /** An entry with request id `id` was applied here: its writers have their answer. */
  settle(id: RequestId, outcome: ApplyOutcome): void {
    if (this.waiting === 0) return;
    const key = forwardKey(id);
    const writes = this.byKey.get(key);
    if (!writes) return;
    this.byKey.delete(key);
    this.waiting -= writes.length;
    for (const w of writes) w.resolve(outcome);
  }

  /** Fails the writes `which` picks (all of them without it), each with the error made for it. */
  fail(error: (w: SentForward) => Error, which: (w: SentForward) => boolean = () => true): void {
    if (this.waiting === 0) return;
    for (const [key, writes] of this.byKey) {
      const kept = writes.filter((w) => {
        if (!which(w)) return true;
        w.reject(error(w));
        return false;
      });
      this.waiting -= writes.length - kept.length;
      if (kept.length === 0) this.byKey.delete(key);
      else this.byKey.set(key, kept);
    }
  }
}
