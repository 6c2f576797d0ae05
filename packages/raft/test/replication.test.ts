import { describe, expect, it } from 'vitest';
import { NONE, type AppendMessage, type Message } from '../src/core/index.js';
import { MemoryCluster, bytes, drain, newNode, storedLog } from './support/memory-cluster.js';

function appendsTo(msgs: readonly Message[], to: number): AppendMessage[] {
  return msgs.filter((m): m is AppendMessage => m.type === 'append' && m.to === to);
}

describe('log replication (§5.3)', () => {
  it('§5.3 the leader commits an entry once a majority stores it, and every replica applies it', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    const result = c.node(1).propose(bytes('a'));
    expect(result).toMatchObject({ ok: true, index: 3, term: 2 });
    c.deliverAll();
    expect(c.node(1).commitIndex).toBe(3);
    expect(c.appliedText(1)).toEqual(['a']);
    expect(c.appliedText(3)).toEqual([]);
    c.heal();
    c.tickAll(2);
    for (const id of [1, 2, 3]) expect(c.appliedText(id)).toEqual(['a']);
  });

  it('§5.3 a follower rejects an append whose previous entry does not match, with a hint', () => {
    const node = newNode(1, { storage: storedLog([1, 1, 2], { voters: [1, 2], term: 3 }) });
    node.step({
      type: 'append',
      from: 2,
      to: 1,
      term: 3,
      index: 3,
      logTerm: 3,
      entries: [],
      commit: 0,
    });
    // Our last entry with a term <= 3 is index 3 (term 2): the leader can resume there.
    expect(drain(node)!.messages).toMatchObject([
      { type: 'append-response', index: 3, reject: true, rejectHint: 3, rejectHintTerm: 2 },
    ]);
  });

  it('§5.3 a conflicting suffix is replaced, and the Ready says where storage must cut', () => {
    const node = newNode(1, {
      storage: storedLog([1, 1, 2, 2], { voters: [1, 2], term: 3, commit: 2 }),
    });
    drain(node);
    const entries = [3, 4].map((index) => ({
      term: 3,
      index,
      type: 'normal' as const,
      data: bytes(`x${index}`),
    }));
    node.step({
      type: 'append',
      from: 2,
      to: 1,
      term: 3,
      index: 2,
      logTerm: 1,
      entries,
      commit: 2,
    });
    const ready = drain(node)!;
    expect(ready.entries.map((e) => [e.index, e.term])).toEqual([
      [3, 3],
      [4, 3],
    ]);
    expect(ready.messages).toMatchObject([{ type: 'append-response', index: 4, reject: false }]);
    expect(node.termAt(3)).toBe(3);
  });

  it('§5.3 a duplicated or reordered older append neither truncates nor moves the match back', () => {
    const node = newNode(1, { storage: storedLog([1, 1, 1], { voters: [1, 2], term: 1 }) });
    drain(node);
    node.step({
      type: 'append',
      from: 2,
      to: 1,
      term: 1,
      index: 1,
      logTerm: 1,
      entries: [],
      commit: 0,
    });
    const ready = drain(node)!;
    expect(ready.entries).toEqual([]);
    expect(ready.messages).toMatchObject([{ type: 'append-response', index: 1, reject: false }]);
    expect(node.status().lastIndex).toBe(3);
  });

  it('fast backtracking: the leader skips a whole divergent term per probe (leader-side hint)', () => {
    // etcd-io/raft's example: leader terms 1 3 3 3 5 5 5 5 5, follower 1 1 1 1 2 2.
    const c = new MemoryCluster(
      [1, 2],
      { preVote: false },
      [],
      new Map([
        [1, storedLog([1, 3, 3, 3, 5, 5, 5, 5, 5], { voters: [1, 2], term: 5, commit: 1 })],
        [2, storedLog([1, 1, 1, 1, 2, 2], { voters: [1, 2], term: 5, commit: 1 })],
      ]),
    );
    c.elect(1);
    const rejections = c.trace.filter((m) => m.type === 'append-response' && m.reject);
    expect(rejections).toHaveLength(1);
    expect(c.node(2).status().lastIndex).toBe(10);
    for (let i = 1; i <= 10; i++) expect(c.node(2).termAt(i)).toBe(c.node(1).termAt(i));
  });

  it('fast backtracking: a follower with a long divergent tail of higher terms hints past it', () => {
    // etcd-io/raft's example: leader 1 3 3 3 3 3 3 3 7, follower 1 3 3 4 4 5 5 5 6.
    const c = new MemoryCluster(
      [1, 2],
      { preVote: false },
      [],
      new Map([
        [1, storedLog([1, 3, 3, 3, 3, 3, 3, 3, 7], { voters: [1, 2], term: 7, commit: 1 })],
        [2, storedLog([1, 3, 3, 4, 4, 5, 5, 5, 6], { voters: [1, 2], term: 7, commit: 1 })],
      ]),
    );
    c.elect(1);
    const rejections = c.trace.filter((m) => m.type === 'append-response' && m.reject);
    expect(rejections).toHaveLength(2);
    for (let i = 1; i <= 10; i++) expect(c.node(2).termAt(i)).toBe(c.node(1).termAt(i));
  });

  it('§5.4.2 a leader never commits an entry of an earlier term by counting replicas (Figure 8)', () => {
    // Node 1 led term 2 and appended index 2 without replicating it; it now wins term 3.
    const c = new MemoryCluster(
      [1, 2, 3],
      { preVote: false, maxEntriesPerMsg: 1 },
      [],
      new Map([
        [1, storedLog([1, 2], { voters: [1, 2, 3], term: 2, commit: 1 })],
        [2, storedLog([1], { voters: [1, 2, 3], term: 2, commit: 1 })],
        [3, storedLog([1], { voters: [1, 2, 3], term: 2, commit: 1 })],
      ]),
    );
    // Node 3 is unreachable. Node 1's first probe (prev 2@2, no-op 3@3) reaches node 2, which
    // lacks index 2 and rejects; node 1 then sends index 2 alone, and later copies of the no-op
    // are lost: node 2 ends up with index 2 (term 2) but not the term-3 entry after it.
    let noopSends = 0;
    c.filter = (m) =>
      m.to !== 3 &&
      m.from !== 3 &&
      !(m.type === 'append' && m.entries.some((e) => e.index === 3) && ++noopSends > 1);
    c.elect(1);
    expect(c.node(2).termAt(2)).toBe(2);
    expect(c.node(2).termAt(3)).toBeUndefined();
    // Index 2 is on a majority (1 and 2) but is of term 2: not committed. In Figure 8 a leader
    // holding a term-3 entry at index 2 could still be elected and overwrite it.
    expect(c.node(1).commitIndex).toBe(1);
    c.filter = (m) => m.to !== 3 && m.from !== 3;
    c.tick([1], 2);
    // Once the term-3 entry is on the majority, both commit together.
    expect(c.node(1).commitIndex).toBe(3);
  });

  it('§5.3 when the leader’s own write completes the quorum, followers hear of the commit at once', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    const leader = c.node(1);
    leader.propose(bytes('a'));
    // The leader sends its appends while it writes them (§10.2.1); one follower answers first.
    const ready = leader.ready();
    const follower = c.node(2);
    follower.step(appendsTo(ready.messages, 2)[0]!);
    for (const answer of drain(follower)!.messages) leader.step(answer);
    expect(leader.commitIndex).toBe(2);
    // Its own write done, the entry commits; the followers are told now, not at a heartbeat.
    leader.advance(ready);
    expect(leader.commitIndex).toBe(3);
    expect(appendsTo(drain(leader)!.messages, 2)).toMatchObject([{ commit: 3 }]);
  });

  it('a heartbeat never carries a commit index beyond what the follower is known to hold', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.filter = (m) => !(m.to === 3 && m.type === 'append');
    c.node(1).propose(bytes('a'));
    c.deliverAll();
    expect(c.node(1).commitIndex).toBe(3);
    c.node(1).tick();
    const heartbeats = c.takeQueued().filter((m) => m.type === 'heartbeat');
    expect(heartbeats).toMatchObject([
      { to: 2, commit: 3 },
      { to: 3, commit: 2 },
    ]);
  });

  it('only the leader takes proposals; others name the leader they know', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    expect(c.node(2).propose(bytes('x'))).toEqual({ ok: false, reason: 'not-leader', leader: 1 });
    const lonely = newNode(9, { preVote: false, bootstrap: { voters: [9, 8, 7], learners: [] } });
    for (let i = 0; i < 20 && lonely.role === 'follower'; i++) lonely.tick();
    expect(lonely.role).toBe('candidate');
    expect(lonely.propose(bytes('x'))).toEqual({ ok: false, reason: 'not-leader', leader: NONE });
  });

  it('proposeBatch appends consecutive entries that replicate together', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    const result = c.node(1).proposeBatch(['a', 'b', 'c'].map(bytes));
    expect(result).toEqual({ ok: true, firstIndex: 3, lastIndex: 5, term: 2 });
    const appends = appendsTo(c.takeQueued(), 2);
    expect(appends.map((m) => m.entries.length)).toEqual([3]);
  });
});

describe('flow control (probe, replicate, inflight window)', () => {
  it('in replicate state at most maxInflightMsgs appends are unacknowledged', () => {
    const c = new MemoryCluster([1, 2], { maxInflightMsgs: 2, maxEntriesPerMsg: 1 });
    c.elect(1);
    expect(c.node(1).status().progress).toMatchObject([{ id: 2, state: 'replicate' }]);
    for (const s of ['a', 'b', 'c', 'd', 'e']) c.node(1).propose(bytes(s));
    const appends = appendsTo(c.takeQueued(), 2);
    expect(appends.map((m) => m.entries.map((e) => e.index))).toEqual([[3], [4]]);
    expect(c.node(1).status().progress[0]!.inflight).toBe(2);
  });

  it('acknowledgements open the window again until everything is replicated', () => {
    const c = new MemoryCluster([1, 2], { maxInflightMsgs: 2, maxEntriesPerMsg: 1 });
    c.elect(1);
    for (const s of ['a', 'b', 'c', 'd', 'e']) c.node(1).propose(bytes(s));
    c.deliverAll();
    expect(c.appliedText(2)).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('in probe state one append at a time is outstanding (after reportUnreachable)', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.node(1).reportUnreachable(2);
    expect(
      c
        .node(1)
        .status()
        .progress.find((p) => p.id === 2)!.state,
    ).toBe('probe');
    for (const s of ['a', 'b', 'c']) c.node(1).propose(bytes(s));
    const appends = appendsTo(c.takeQueued(), 2);
    expect(appends).toHaveLength(1);
  });

  it('a heartbeat response frees a window whose appends were all lost', () => {
    const c = new MemoryCluster([1, 2], { maxInflightMsgs: 1, maxEntriesPerMsg: 1 });
    c.elect(1);
    let dropped = 0;
    c.filter = (m) => !(m.type === 'append' && m.entries.length > 0 && dropped++ < 1);
    c.node(1).propose(bytes('a'));
    c.node(1).propose(bytes('b'));
    c.deliverAll();
    expect(c.appliedText(2)).toEqual([]);
    c.tick([1], 3);
    expect(c.appliedText(2)).toEqual(['a', 'b']);
  });

  it('an append carries at most maxEntriesPerMsg entries and about maxBytesPerMsg bytes', () => {
    const count = new MemoryCluster([1, 2, 3], { maxEntriesPerMsg: 3 });
    count.elect(1);
    count.isolate(3);
    for (let i = 0; i < 10; i++) count.node(1).propose(bytes(`entry-${i}`));
    count.deliverAll();
    count.heal();
    count.node(1).tick();
    count.deliverAll();
    const toNode3 = appendsTo(count.trace, 3).filter((m) => m.entries.length > 0);
    expect(Math.max(...toNode3.map((m) => m.entries.length))).toBe(3);
    expect(count.appliedText(3)).toHaveLength(10);

    const size = new MemoryCluster([1, 2], { maxBytesPerMsg: 10 });
    size.elect(1);
    size.isolate(2);
    for (let i = 0; i < 4; i++) size.node(1).propose(bytes('12345678'));
    size.heal();
    size.tick([1], 3);
    const toNode2 = appendsTo(size.trace, 2).filter((m) => m.entries.length > 0);
    expect(toNode2.every((m) => m.entries.length === 1)).toBe(true);
    expect(size.appliedText(2)).toHaveLength(4);
  });
});
