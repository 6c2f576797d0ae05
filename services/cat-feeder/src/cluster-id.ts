// The id of the Raft group a founding replica belongs to. Like etcd's, it is derived from the
// founding membership, so every founder computes the same one without talking to the others,
// and two groups founded with different peers (or the same ids at other addresses) differ.
import { createHash } from 'node:crypto';
import type { PeerMap } from './config.js';

export function foundingClusterId(founders: PeerMap): string {
  const members = [...founders]
    .sort(([a], [b]) => a - b)
    .map(([id, address]) => `${id}=${address}`)
    .join(',');
  return createHash('sha256').update(`catmesh-raft/v1 ${members}`).digest('hex').slice(0, 16);
}
