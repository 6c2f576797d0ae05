import type { TrafficDirection, TrafficGate } from '@catmesh/runtime';

/** What a Raft transport does with one message (`@catmesh/raft/transport`'s FaultVerdict). */
export type RaftFaultVerdict = 'deliver' | 'drop' | { readonly delayMs: number };

/** The Raft peer transport's filter (its TransportFaultFilter), by shape. */
export type RaftFaultFilter = (
  from: number,
  to: number,
  direction: TrafficDirection,
) => RaftFaultVerdict;

/**
 * The Raft transport's fault filter over the traffic gate. The peer of a message is the replica
 * at its other end, known by its Raft id (service cat-feeder, instance unknown). Raft messages
 * cannot be refused, so a rejection drops them; the filter sees no sizes, so bandwidth faults do
 * not act on them.
 */
export function raftFaultFilter(gate: TrafficGate): RaftFaultFilter {
  return (from, to, direction) => {
    if (!gate.armed) return 'deliver';
    const decision = gate.decide({
      transport: 'raft',
      direction,
      peer: { service: 'cat-feeder', instance: '', raftId: direction === 'outbound' ? to : from },
      operation: 'raft',
      bytes: 0,
      span: undefined,
    });
    switch (decision.action) {
      case 'deliver':
        return 'deliver';
      case 'delay':
        return { delayMs: decision.delayMs };
      case 'drop':
      case 'reject':
        return 'drop';
    }
  };
}
