// Where NATS traffic meets the traffic gate of the `app` fault mechanism.
import type { Span } from '@opentelemetry/api';
import type { MsgHdrs } from 'nats';
import { sleep } from '../async/with-deadline.js';
import { CALLER_HEADER, NATS_PEER, parseCallerIdentity } from '../traffic/caller-identity.js';
import type { TrafficGate } from '../traffic/traffic-gate.js';

export interface OutboundOperation {
  /** The subject, or `kv <bucket> <key>`. */
  readonly operation: string;
  readonly bytes: number;
  readonly span: Span | undefined;
  /** The operation's own timeout, which a dropped operation waits out. */
  readonly timeoutMs: number;
  /** The error the operation fails with when it times out. */
  readonly timedOut: () => Error;
  /** The error it fails with when a fault rejects it. */
  readonly rejected: (reason: string) => Error;
}

/**
 * Resolves when an outbound operation (its peer is the broker) may go ahead, after a delay if a
 * fault says so. A dropped one fails as a timeout does, after its own timeout; a rejected one
 * fails at once.
 */
export async function admitOutbound(gate: TrafficGate, op: OutboundOperation): Promise<void> {
  const decision = gate.decide({
    transport: 'nats',
    direction: 'outbound',
    peer: NATS_PEER,
    operation: op.operation,
    bytes: op.bytes,
    span: op.span,
  });
  switch (decision.action) {
    case 'deliver':
      return;
    case 'drop':
      await sleep(op.timeoutMs);
      throw op.timedOut();
    case 'reject':
      throw op.rejected(decision.reason);
    case 'delay':
      await sleep(decision.delayMs);
  }
}

/**
 * Whether a delivered message reaches its handler, after a delay if a fault says so. Its peer is
 * its publisher (the `catmesh-caller` header); a delivered message cannot be refused, so a
 * rejection drops it.
 */
export async function admitInbound(
  gate: TrafficGate,
  msg: {
    readonly subject: string;
    readonly data: Uint8Array;
    readonly headers?: MsgHdrs | undefined;
  },
  span: Span,
): Promise<boolean> {
  const decision = gate.decide({
    transport: 'nats',
    direction: 'inbound',
    peer: parseCallerIdentity(msg.headers?.get(CALLER_HEADER)),
    operation: msg.subject,
    bytes: msg.data.byteLength,
    span,
  });
  if (decision.action === 'delay') await sleep(decision.delayMs);
  return decision.action === 'deliver' || decision.action === 'delay';
}
