// Followers hand commands to the leader over the Raft stream (forwardBatch, a 'propose'
// message): the leader appends them as its own; nothing answers, so a lost one is the
// proposer's to send again.
import { describe, expect, it } from 'vitest';
import type { ProposeMessage } from '../src/core/index.js';
import { MemoryCluster, bytes, drain, newNode } from './support/memory-cluster.js';

describe('commands forwarded from a follower (§6.2)', () => {
  it('§6.2 a follower’s commands reach the leader, which replicates and commits them in order', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    expect(c.node(3).forwardBatch([bytes('a'), bytes('b')])).toEqual({ ok: true, leader: 1 });
    c.deliverAll();
    for (const id of [1, 2, 3]) expect(c.appliedText(id)).toEqual(['a', 'b']);
    expect(c.node(1).commitIndex).toBe(c.node(1).status().lastIndex);
  });

  it('carries a batch in one message while it fits, in several when it does not', () => {
    const c = new MemoryCluster([1, 2, 3], { maxEntriesPerMsg: 2 });
    c.elect(1);
    c.node(2).forwardBatch(['a', 'b', 'c', 'd', 'e'].map(bytes));
    const sent = c.takeQueued().filter((m): m is ProposeMessage => m.type === 'propose');
    expect(sent.map((m) => [m.to, m.entries.length])).toEqual([
      [1, 2],
      [1, 2],
      [1, 1],
    ]);
  });

  it('tells the caller to propose itself when it leads, and refuses without a leader', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    expect(c.node(1).forwardBatch([bytes('a')])).toEqual({ ok: false, reason: 'is-leader' });
    const alone = newNode(1, { bootstrap: { voters: [1, 2, 3], learners: [] } });
    drain(alone);
    expect(alone.forwardBatch([bytes('a')])).toEqual({ ok: false, reason: 'no-leader' });
  });

  it('§3.10 a leader handing over drops forwarded commands, as it refuses its own', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    c.node(1).propose(bytes('x'));
    c.deliverAll();
    // Node 3 is behind, so the transfer waits for it to catch up: proposals are refused meanwhile.
    expect(c.node(1).transferLeadership(3)).toEqual({ ok: true });
    const before = c.node(1).status().lastIndex;
    c.node(1).step({
      type: 'propose',
      from: 2,
      to: 1,
      term: c.node(1).term,
      entries: [{ term: 0, index: 0, type: 'normal', data: bytes('late') }],
    });
    expect(c.node(1).status().lastIndex).toBe(before);
  });

  it('§5.1 a proposal of an older term is dropped: its sender knew a leader since replaced', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.node(1).transferLeadership(2);
    c.deliverAll();
    expect(c.leaderId()).toBe(2);
    const before = c.node(2).status().lastIndex;
    c.node(2).step({
      type: 'propose',
      from: 3,
      to: 2,
      term: c.node(2).term - 1,
      entries: [{ term: 0, index: 0, type: 'normal', data: bytes('stale') }],
    });
    c.deliverAll();
    expect(c.node(2).status().lastIndex).toBe(before);
    expect(c.appliedText(2)).not.toContain('stale');
  });

  it('refuses a forwarded membership change as malformed: those take proposeConfChange', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    const result = c.node(1).step({
      type: 'propose',
      from: 2,
      to: 1,
      term: c.node(1).term,
      entries: [{ term: 0, index: 0, type: 'conf-change', data: bytes('sneaky') }],
    });
    expect(result).toMatchObject({ ok: false, reason: 'malformed' });
  });
});
