// Majority arithmetic over the voters of one configuration. Learners never appear here.
import type { NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

/**
 * The largest value that a majority of voters has reached (e.g. the highest index replicated on
 * a majority), given each voter's value; 0 when there are no voters.
 */
export function majorityValue(
  voters: ReadonlySet<NodeId>,
  valueOf: (id: NodeId) => number,
): number {
  const n = voters.size;
  if (n === 0) return 0;
  const values: number[] = [];
  for (const v of voters) values.push(valueOf(v));
  values.sort((a, b) => b - a);
  return values[Math.floor(n / 2)]!;
}

/** Whether a majority of voters satisfies `pred`. */
export function hasMajority(voters: ReadonlySet<NodeId>, pred: (id: NodeId) => boolean): boolean {
  let yes = 0;
  for (const v of voters) if (pred(v)) yes++;
  return voters.size > 0 && yes > voters.size / 2;
}

/** Election outcome from the votes received so far (votes from non-voters do not count). */
export function voteResult(
  voters: ReadonlySet<NodeId>,
  votes: ReadonlyMap<NodeId, boolean>,
): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const v of voters) {
    const vote = votes.get(v);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const q = Math.floor(voters.size / 2) + 1;
  if (granted >= q) return 'won';
  if (voters.size - rejected < q) return 'lost';
  return 'pending';
}
