// A fault of the `app` mechanism once validated: what the traffic gate needs, in its own terms,
// next to the wire form it was applied with (for listings).
import type { faultsV1 } from '@catmesh/proto';
import type { TrafficDirection, TrafficTransport } from '@catmesh/runtime';

export const APP_FAULT_KINDS = [
  'partition',
  'latency',
  'loss',
  'reject',
  'bandwidth',
  'pause',
] as const;
export type AppFaultKind = (typeof APP_FAULT_KINDS)[number];

export type LatencyDistribution = 'uniform' | 'normal' | 'pareto';

export type AppFaultEffect =
  | { readonly kind: 'partition' }
  | {
      readonly kind: 'latency';
      readonly delayMs: number;
      readonly jitterMs: number;
      readonly distribution: LatencyDistribution;
    }
  | { readonly kind: 'loss'; readonly probability: number }
  | { readonly kind: 'reject'; readonly probability: number }
  | { readonly kind: 'bandwidth'; readonly bytesPerSecond: number }
  | { readonly kind: 'pause'; readonly pauseMs: number; readonly everyMs: number };

/** Matches a peer; empty fields (`""`, 0) match anything. */
export interface PeerSelector {
  readonly service: string;
  readonly instance: string;
  readonly raftId: number;
}

export interface AppFault {
  readonly id: string;
  readonly effect: AppFaultEffect;
  readonly expiresAtUnixMs: number;
  /** Empty: every peer. */
  readonly peers: readonly PeerSelector[];
  /** Undefined: both directions. */
  readonly direction: TrafficDirection | undefined;
  /** Undefined: every transport. */
  readonly transports: ReadonlySet<TrafficTransport> | undefined;
  readonly experiment: string;
  /** As applied, normalised (defaults spelled out), for ListFaults and ApplyFault's answer. */
  readonly wire: faultsV1.Fault;
}
