import { randomUUID } from 'node:crypto';
import type { catfeederV1 } from '@catmesh/proto';

/**
 * The request id of an invocation's one write: a client id of its own and sequence 1. The
 * store applies a request id once, so the write can be resent after UNAVAILABLE or a timeout,
 * to the same replica or another, without being applied twice.
 */
export function oneWriteRequestId(): catfeederV1.RequestId {
  return { clientId: `catmesh-cli-${randomUUID()}`, sequence: 1 };
}
