import type { catfeederV1 } from '@catmesh/proto';
import type { RaftStatus } from '@catmesh/raft';

/**
 * The group's members as the API reports them, voters then learners. With `tickMs`, each peer
 * also carries the leader's view of it (last contact, match index); only a leader has one.
 */
export function memberList(
  raft: RaftStatus,
  addresses: ReadonlyMap<number, string>,
  tickMs?: number,
): catfeederV1.Peer[] {
  const progress = new Map(raft.progress.map((p) => [p.id, p]));
  return [
    ...raft.confState.voters.map((id) => ({ id, learner: false })),
    ...raft.confState.learners.map((id) => ({ id, learner: true })),
  ].map(({ id, learner }) => {
    const p = tickMs === undefined ? undefined : progress.get(id);
    return {
      id,
      address: addresses.get(id) ?? '',
      learner,
      lastContactMs: p && tickMs !== undefined ? p.ticksSinceContact * tickMs : undefined,
      matchIndex: p?.match,
    };
  });
}
