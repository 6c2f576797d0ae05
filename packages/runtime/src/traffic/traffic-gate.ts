// The injection hooks of the `app` fault mechanism (ARCHITECTURE.md rule 3). The kit's transports
// ask a TrafficGate about each call and message; packages/faults implements it over its fault
// table. The kit knows nothing of faults: only who is at the other end and what to do.
import type { Span } from '@opentelemetry/api';

/** Who is at the other end of a call or message (`catmesh.faults.v1.PeerIdentity`). */
export interface PeerIdentity {
  /** cat-feeder, orders, inventory, loadgen, nats, ... */
  readonly service: string;
  /** The instance (pod) name; "" when not known. */
  readonly instance: string;
  /** The Raft id of a cat-feeder replica; 0 for everything else. */
  readonly raftId: number;
}

export type TrafficTransport = 'grpc' | 'nats' | 'raft';

/** `inbound`: served calls and delivered messages; `outbound`: client calls and publishes. */
export type TrafficDirection = 'inbound' | 'outbound';

/** One call or message, as a gate sees it. */
export interface TrafficRequest {
  readonly transport: TrafficTransport;
  readonly direction: TrafficDirection;
  /** The peer, or undefined when it sent no identity. */
  readonly peer: PeerIdentity | undefined;
  /** The gRPC method path, the NATS subject, or the Key/Value operation. */
  readonly operation: string;
  /** Encoded size of the message, for bandwidth limits. */
  readonly bytes: number;
  /** The call's or message's span, which gets a `catmesh.fault` event per fault that acts. */
  readonly span: Span | undefined;
}

/**
 * What to do with it. `drop` is silent (the caller sees its own deadline); `reject` fails it at
 * once (gRPC UNAVAILABLE, a NATS error); `delay` delivers it after `delayMs`.
 */
export type TrafficDecision =
  | { readonly action: 'deliver' }
  | { readonly action: 'drop' }
  | { readonly action: 'reject'; readonly reason: string }
  | { readonly action: 'delay'; readonly delayMs: number };

export interface TrafficGate {
  /**
   * False while no fault is in force. The transports check this and nothing else on their hot
   * path, so an idle gate costs one property read per call or message.
   */
  readonly armed: boolean;
  decide(request: TrafficRequest): TrafficDecision;
}

/** How a process takes part in fault injection: who it says it is, and the gate it consults. */
export interface TrafficHooks {
  /** Sent to every peer (`catmesh-caller`), so that the peer's faults can match this process. */
  readonly self: PeerIdentity;
  /** Undefined when fault injection is off in this process (`CATMESH_FAULT_ADMIN=off`). */
  readonly gate?: TrafficGate;
}
