import { status as grpcStatus, type Deadline } from '@grpc/grpc-js';
import { RpcStatusError } from './rpc-status-error.js';

/** What this needs of a server call, of any of the four kinds (grpc-js exports no name for it). */
export interface CancellableServerCall {
  readonly cancelled: boolean;
  getDeadline(): Deadline;
  once(event: 'cancelled', listener: () => void): unknown;
}

/**
 * An AbortSignal that aborts when nobody waits for the answer to `call` any more: its deadline
 * passed or its client cancelled it. Pass it to the work a handler starts (a compare-and-set
 * loop, a call downstream), so that the work stops with the call instead of competing with the
 * calls still waited for. The reason is an RpcStatusError, DEADLINE_EXCEEDED or CANCELLED, which
 * the server kit answers as is (the client has gone, so only logs and spans see it).
 *
 * grpc-js ends a call past its deadline itself (DEADLINE_EXCEEDED) and then emits 'cancelled',
 * as it does for a client's cancel; it emits it after a normal end too, by which time the
 * handler is done and an abort changes nothing. So one listener serves, and no timer is needed.
 */
export function serverCallSignal(call: CancellableServerCall): AbortSignal {
  const controller = new AbortController();
  const abort = () => controller.abort(reasonOf(call));
  if (call.cancelled) abort();
  else call.once('cancelled', abort);
  return controller.signal;
}

function reasonOf(call: CancellableServerCall): RpcStatusError {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return deadlineMs <= Date.now()
    ? new RpcStatusError(grpcStatus.DEADLINE_EXCEEDED, 'deadline exceeded: the caller has gone')
    : new RpcStatusError(grpcStatus.CANCELLED, 'cancelled by the client');
}
