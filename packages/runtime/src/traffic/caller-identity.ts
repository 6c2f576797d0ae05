// The `catmesh-caller` gRPC metadata entry and NATS header: `service=orders;instance=orders;raft=0`.
import type { PeerIdentity } from './traffic-gate.js';

export const CALLER_HEADER = 'catmesh-caller';

/** The peer of outbound NATS traffic: the broker, whatever the subject. */
export const NATS_PEER: PeerIdentity = { service: 'nats', instance: '', raftId: 0 };

export function formatCallerIdentity(identity: PeerIdentity): string {
  return `service=${identity.service};instance=${identity.instance};raft=${identity.raftId}`;
}

/** The identity in a header value, or undefined when there is none or it is not one. */
export function parseCallerIdentity(value: unknown): PeerIdentity | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let service = '';
  let instance = '';
  let raftId = 0;
  for (const part of value.split(';')) {
    const equals = part.indexOf('=');
    if (equals < 0) return undefined;
    const key = part.slice(0, equals).trim();
    const text = part.slice(equals + 1).trim();
    if (key === 'service') service = text;
    else if (key === 'instance') instance = text;
    else if (key === 'raft') {
      raftId = Number(text);
      if (!Number.isSafeInteger(raftId) || raftId < 0) return undefined;
    }
  }
  return service === '' ? undefined : { service, instance, raftId };
}
