// Why a replica could not serve a request. Each carries the gRPC status it is answered with
// (the server kit answers an error with a numeric `code` as that status).
import { status } from '@grpc/grpc-js';

/** This replica is not the leader; `leaderId` is the one it knows of (0: none known). */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  readonly code = status.UNAVAILABLE;
  constructor(readonly leaderId: number) {
    super(
      leaderId === 0
        ? 'no leader is known (an election is under way)'
        : `not the leader; leader is ${leaderId}`,
    );
  }
}

/**
 * A proposal's log position was taken by another leader's entry: it was not applied. Safe to
 * retry (retries carry the same request id and apply once).
 */
export class ProposalDroppedError extends Error {
  override readonly name = 'ProposalDroppedError';
  readonly code = status.UNAVAILABLE;
  constructor(index: number) {
    super(`the write at log index ${index} was dropped by a leader change; retry it`);
  }
}

/**
 * A write this follower forwarded to the leader over Raft was not seen applied in time, or the
 * leader changed meanwhile: it may or may not commit later. Safe to retry (the retry carries the
 * same request id, so the write applies once).
 */
export class ForwardLostError extends Error {
  override readonly name = 'ForwardLostError';
  readonly code = status.UNAVAILABLE;
  constructor(leaderId: number, why: string) {
    super(`the write forwarded to leader ${leaderId} ${why}; retry it`);
  }
}

/** The replica is shutting down. */
export class ReplicaStoppedError extends Error {
  override readonly name = 'ReplicaStoppedError';
  readonly code = status.UNAVAILABLE;
  constructor() {
    super('the replica is shutting down');
  }
}

/** Too many writes are waiting to commit: the leader sheds load instead of queueing without bound. */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
  readonly code = status.RESOURCE_EXHAUSTED;
  constructor(limit: number) {
    super(`more than ${limit} writes are waiting to commit; retry later`);
  }
}
