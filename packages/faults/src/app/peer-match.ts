// Which calls and messages a fault acts on: transport, direction, peers.
import type { PeerIdentity, TrafficRequest } from '@catmesh/runtime';
import type { AppFault, PeerSelector } from './app-fault.js';

const CAT_FEEDER = 'cat-feeder';
const NATS = 'nats';

export function faultApplies(fault: AppFault, request: TrafficRequest): boolean {
  if (fault.transports !== undefined && !fault.transports.has(request.transport)) return false;
  if (fault.direction !== undefined && fault.direction !== request.direction) return false;
  if (fault.peers.length === 0) return true;
  for (const selector of fault.peers) if (selectorMatches(selector, request)) return true;
  return false;
}

/**
 * Whether `selector` names the peer of `request`. Empty fields match anything, and a selector
 * with every field empty matches every peer, an unknown one too. A Raft peer is known only by its
 * Raft id, so a selector with a `raft_id` matches Raft traffic by that id alone (and service
 * cat-feeder); one with an `instance` and no `raft_id` cannot match Raft traffic. A delivered NATS
 * message matches its publisher's identity, or a selector naming the broker (`nats`), which is
 * the immediate peer of every message.
 */
export function selectorMatches(selector: PeerSelector, request: TrafficRequest): boolean {
  if (selector.service === '' && selector.instance === '' && selector.raftId === 0) return true;
  if (request.transport === 'raft' && selector.raftId !== 0) {
    return (
      selector.raftId === request.peer?.raftId &&
      (selector.service === '' || selector.service === CAT_FEEDER)
    );
  }
  if (
    request.transport === 'nats' &&
    request.direction === 'inbound' &&
    selector.service === NATS
  ) {
    return selector.instance === '' && selector.raftId === 0;
  }
  return identityMatches(selector, request.peer);
}

function identityMatches(selector: PeerSelector, peer: PeerIdentity | undefined): boolean {
  if (peer === undefined) return false;
  return (
    (selector.service === '' || selector.service === peer.service) &&
    (selector.instance === '' || selector.instance === peer.instance) &&
    (selector.raftId === 0 || selector.raftId === peer.raftId)
  );
}
