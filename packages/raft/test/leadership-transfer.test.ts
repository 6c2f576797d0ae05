import { describe, expect, it } from 'vitest';
import { MemoryCluster, bytes } from './support/memory-cluster.js';

describe('leadership transfer (dissertation §3.10)', () => {
  it('§3.10 an up-to-date target gets TimeoutNow at once and wins, though followers are in lease', () => {
    const c = new MemoryCluster([1, 2, 3], { checkQuorum: true, preVote: true });
    c.elect(1);
    const term = c.node(1).term;
    const before = c.trace.length;
    expect(c.node(1).transferLeadership(2)).toEqual({ ok: true });
    expect(c.takeQueued().map((m) => [m.type, m.to])).toEqual([['timeout-now', 2]]);
    c.node(2).step({ type: 'timeout-now', from: 1, to: 2, term });
    c.deliverAll();
    expect(c.node(2).role).toBe('leader');
    expect(c.node(2).term).toBe(term + 1);
    expect(c.node(1).role).toBe('follower');
    expect(c.node(1).leader).toBe(2);
    // The transfer campaign skipped PreVote and was marked so voters in lease answered.
    const votes = c.trace.slice(before).filter((m) => m.type === 'vote' || m.type === 'pre-vote');
    expect(votes.length).toBeGreaterThan(0);
    expect(votes.every((m) => m.type === 'vote' && m.transfer)).toBe(true);
  });

  it('§3.10 a lagging target is caught up first, then told to campaign', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    for (const s of ['a', 'b', 'c']) c.node(1).propose(bytes(s));
    c.deliverAll();
    c.heal();
    c.filter = (m) => m.type !== 'timeout-now';
    c.node(1).transferLeadership(3);
    c.deliverAll();
    const sent = c.trace.map((m) => m.type);
    expect(sent.indexOf('timeout-now')).toBeGreaterThan(sent.indexOf('append'));
    expect(c.node(3).status().lastIndex).toBe(c.node(1).status().lastIndex);
    c.heal();
    c.node(1).transferLeadership(3);
    c.deliverAll();
    expect(c.node(3).role).toBe('leader');
    expect(c.appliedText(3)).toEqual(['a', 'b', 'c']);
  });

  it('§3.10 the leader refuses proposals while a transfer is under way', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.filter = (m) => m.type !== 'timeout-now';
    c.node(1).transferLeadership(2);
    c.deliverAll();
    expect(c.node(1).propose(bytes('x'))).toEqual({
      ok: false,
      reason: 'transferring',
      transferee: 2,
    });
    expect(c.node(1).proposeConfChange({ type: 'add-learner', node: 4 })).toMatchObject({
      reason: 'transferring',
    });
    expect(c.node(1).status().leadTransferee).toBe(2);
  });

  it('§3.10 a transfer that does not complete within an election timeout is abandoned', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.filter = (m) => m.type !== 'timeout-now';
    c.node(1).transferLeadership(2);
    c.tick([1], 10);
    expect(c.node(1).role).toBe('leader');
    expect(c.node(1).status().leadTransferee).toBe(0);
    expect(c.node(1).propose(bytes('x'))).toMatchObject({ ok: true });
  });

  it('refuses targets that are not voters, and requests to a non-leader', () => {
    const c = new MemoryCluster([1, 2, 3], {}, [4]);
    c.elect(1);
    expect(c.node(1).transferLeadership(4)).toEqual({
      ok: false,
      reason: 'invalid-target',
      detail: 'node 4 is not a voter',
    });
    expect(c.node(1).transferLeadership(9)).toMatchObject({ ok: false, reason: 'invalid-target' });
    expect(c.node(2).transferLeadership(3)).toEqual({ ok: false, reason: 'not-leader', leader: 1 });
    expect(c.node(1).transferLeadership(1)).toEqual({ ok: true });
    // A learner told to campaign does nothing.
    c.node(4).step({ type: 'timeout-now', from: 1, to: 4, term: c.node(1).term });
    expect(c.node(4).role).toBe('follower');
  });
});
