// A fault of the fault admin API in the words the page shows.
import type { faultsV1 } from '@catmesh/proto';
import type { FaultView } from './dashboard-snapshot.js';

export function faultViewOf(instance: string, fault: faultsV1.Fault): FaultView {
  return {
    instance,
    id: fault.id,
    kind: fault.kind?.$case ?? 'unknown',
    detail: detailOf(fault.kind),
    peers: fault.peers.map(
      (peer) => peer.instance || (peer.raftId ? `cat-feeder-${peer.raftId}` : peer.service),
    ),
    experiment: fault.experiment,
    expiresAtMs: fault.expiresAtUnixMs,
  };
}

function detailOf(kind: faultsV1.Fault['kind']): string {
  switch (kind?.$case) {
    case 'partition':
      return 'every matching call or message dropped';
    case 'latency':
      return `${kind.value.delayMs}ms delay${kind.value.jitterMs ? ` ±${kind.value.jitterMs}ms` : ''}`;
    case 'loss':
      return `${Math.round(kind.value.probability * 100)}% dropped`;
    case 'reject':
      return `${Math.round((kind.value.probability || 1) * 100)}% rejected (UNAVAILABLE)`;
    case 'bandwidth':
      return `${kind.value.bytesPerSecond} bytes/s`;
    case 'pause':
      return `event loop blocked ${kind.value.pauseMs}ms${kind.value.everyMs ? ` every ${kind.value.everyMs}ms` : ''}`;
    default:
      return '';
  }
}
