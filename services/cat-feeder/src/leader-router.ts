// "Any node can write": a write is proposed on whichever replica it reaches (a follower sends it
// to the leader over the Raft stream); a request that only the leader can serve (a lease read, an
// admin call) is served here when this replica leads and forwarded to the leader when another
// one does. Both are held through an election until their deadline. It never answers wrongly:
// when time runs out it says UNAVAILABLE, with the leader it knows of, or DEADLINE_EXCEEDED when
// a write's outcome is unknown.
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { RpcStatusError, sleep, withDeadline } from '@catmesh/runtime';
import { ForwardLostError, NotLeaderError, ProposalDroppedError } from './replica-errors.js';
import type { Replica } from './replica.js';

/** Set on a forwarded request so that a replica that is no longer leader does not forward again. */
export const FORWARDED_HEADER = 'x-catmesh-forwarded-by';

/** Upper bound on how long a request without a deadline waits through an election. */
const DEFAULT_WAIT_MS = 10_000;

interface CommonRouteOptions {
  /** The call's deadline (epoch ms; Infinity when the client set none). */
  readonly deadline: number;
}

export type RouteOptions<T> = CommonRouteOptions &
  (
    | {
        /** Only the leader serves it; a follower calls the leader. */
        readonly servedBy: 'leader';
        /** The request was forwarded to this replica by another one. */
        readonly forwarded: boolean;
        /** Serves the request on this replica, which is the leader. */
        readonly local: (remainingMs: number) => Promise<T>;
        /** Forwards the request to the leader at `address`, with `metadata` marking it forwarded. */
        readonly remote: (address: string, metadata: Metadata, remainingMs: number) => Promise<T>;
      }
    | {
        /** Any replica that knows a leader serves it (a write: a follower forwards it over Raft). */
        readonly servedBy: 'any';
        readonly local: (remainingMs: number) => Promise<T>;
      }
  );

/** Errors after which the request is tried again: it did not happen, or happens once anyway. */
const retryable = (error: unknown) =>
  error instanceof NotLeaderError ||
  error instanceof ProposalDroppedError ||
  error instanceof ForwardLostError;

export class LeaderRouter {
  constructor(
    private readonly replica: Replica,
    /** How often to look again for a leader during an election. */
    private readonly pollMs: number,
  ) {}

  async route<T>(options: RouteOptions<T>): Promise<T> {
    const deadline = Math.min(options.deadline, Date.now() + DEFAULT_WAIT_MS);
    for (;;) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw this.unavailable();
      const leader = this.replica.leader;
      const here = this.replica.role === 'leader' || (options.servedBy === 'any' && leader !== 0);
      if (here) {
        try {
          // A local write not finished by the deadline may still commit: its outcome is unknown,
          // which is exactly what DEADLINE_EXCEEDED says.
          return await withDeadline(
            options.local(remaining),
            remaining,
            () =>
              new RpcStatusError(
                status.DEADLINE_EXCEEDED,
                `not committed within ${remaining} ms; the outcome is unknown`,
              ),
          );
        } catch (error) {
          if (!retryable(error)) throw error;
          // A forward was lost or went to a leader now gone: send it again at once.
          if (error instanceof ForwardLostError) continue;
        }
      } else if (options.servedBy === 'leader' && leader !== 0) {
        // A request another replica forwarded here is not forwarded again: leadership moved.
        if (options.forwarded) throw this.unavailable();
        const address = this.replica.addressBook().get(leader);
        if (address !== undefined) {
          const metadata = new Metadata();
          metadata.set(FORWARDED_HEADER, String(this.replica.id));
          try {
            return await options.remote(address, metadata, remaining);
          } catch (error) {
            // The leader moved or is unreachable: look again. Any other answer is the answer.
            if ((error as ServiceError).code !== status.UNAVAILABLE) throw error;
          }
        }
      }
      await sleep(Math.min(this.pollMs, Math.max(1, deadline - Date.now())));
    }
  }

  private unavailable(): RpcStatusError {
    const leader = this.replica.leader;
    const address = leader === 0 ? undefined : this.replica.addressBook().get(leader);
    const hint =
      leader === 0 ? 'no leader is known' : `leader is ${leader}${address ? ` at ${address}` : ''}`;
    return new RpcStatusError(
      status.UNAVAILABLE,
      `replica ${this.replica.id} cannot serve this now: ${hint}`,
    );
  }
}
