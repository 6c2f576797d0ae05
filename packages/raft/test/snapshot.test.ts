import { describe, expect, it } from 'vitest';
import { type SnapshotMessage } from '../src/core/index.js';
import { MemoryCluster, bytes, drain, newNode, storedLog, text } from './support/memory-cluster.js';

/** A cluster where node 3 missed entries that the leader then compacted away. */
function laggingFollower(): MemoryCluster {
  const c = new MemoryCluster([1, 2, 3]);
  c.elect(1);
  c.crash(3);
  for (const s of ['a', 'b', 'c', 'd']) c.node(1).propose(bytes(s));
  c.deliverAll();
  const applied = c.node(1).status().applied;
  const snapshot = c.node(1).compact(applied, bytes(c.appliedText(1).join(',')));
  c.storage.get(1)!.snapshot = snapshot;
  return c;
}

/** Node 3 acknowledged every entry, then lost its data directory and started afresh. */
function wipedFollower(compact: boolean): MemoryCluster {
  const c = new MemoryCluster([1, 2, 3]);
  c.elect(1);
  for (const s of ['a', 'b', 'c', 'd']) c.node(1).propose(bytes(s));
  c.deliverAll();
  expect(
    c
      .node(1)
      .status()
      .progress.find((p) => p.id === 3),
  ).toMatchObject({ match: 6 });
  if (compact) {
    c.storage.get(1)!.snapshot = c.node(1).compact(6, bytes(c.appliedText(1).join(',')));
  }
  c.crash(3);
  c.storage.delete(3);
  c.start(3, { voters: [1, 2, 3], learners: [] });
  return c;
}

describe('a follower that lost its log (stable storage assumed by Raft, §5.1, broken)', () => {
  it('is probed anew from what it holds when a heartbeat shows the loss, and catches up', () => {
    const c = wipedFollower(false);
    // No writes: the leader learns of the loss from the heartbeat alone.
    c.tick([1], 2);
    expect(c.node(3).status()).toMatchObject({ lastIndex: 6, commit: 6 });
    expect(c.appliedText(3)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('§7 gets the snapshot when what it lost is compacted away on the leader', () => {
    const c = wipedFollower(true);
    c.tick([1], 2);
    expect(c.trace.filter((m) => m.type === 'snapshot' && m.to === 3)).toHaveLength(1);
    expect(text(c.storage.get(3)!.snapshot!.data)).toBe('a,b,c,d');
    expect(c.node(3).status()).toMatchObject({ commit: 6, applied: 6 });
  });
});

describe('log compaction and InstallSnapshot (§7)', () => {
  it('§7 compacting drops the log prefix and records the term and membership at that index', () => {
    const c = laggingFollower();
    const st = c.node(1).status();
    expect(st.firstIndex).toBe(7);
    expect(c.node(1).termAt(5)).toBeUndefined();
    expect(c.node(1).termAt(6)).toBe(2);
    expect(c.storage.get(1)!.snapshot!.metadata).toEqual({
      index: 6,
      term: 2,
      confState: { voters: [1, 2, 3], learners: [] },
    });
  });

  it('§7 the leader sends its snapshot to a follower that needs compacted entries', () => {
    const c = laggingFollower();
    c.start(3);
    c.tick([1], 2);
    const sent = c.trace.filter((m): m is SnapshotMessage => m.type === 'snapshot');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.snapshot.metadata.index).toBe(6);
    // The follower persisted the snapshot (the Ready carried it) and caught up.
    const stored = c.storage.get(3)!;
    expect(text(stored.snapshot!.data)).toBe('a,b,c,d');
    expect(c.node(3).status()).toMatchObject({ commit: 6, applied: 6, firstIndex: 7 });
    expect(
      c
        .node(1)
        .status()
        .progress.find((p) => p.id === 3),
    ).toMatchObject({ match: 6, state: 'replicate' });
    c.node(1).propose(bytes('e'));
    c.deliverAll();
    expect(c.appliedText(3)).toEqual(['e']);
  });

  it("§7 a follower whose log already holds the snapshot's last entry keeps its log and commits", () => {
    const node = newNode(2, {
      storage: storedLog([1, 1, 1, 1], { voters: [1, 2], term: 1, commit: 1 }),
    });
    drain(node);
    node.step({
      type: 'snapshot',
      from: 1,
      to: 2,
      term: 1,
      snapshot: {
        metadata: { index: 3, term: 1, confState: { voters: [1, 2], learners: [] } },
        data: bytes('s'),
      },
    });
    const ready = drain(node)!;
    expect(ready.snapshot).toBeUndefined();
    expect(ready.hardState).toMatchObject({ commit: 3 });
    expect(node.status().lastIndex).toBe(4);
  });

  it("§7 a snapshot that conflicts with the follower's log replaces the log and the membership", () => {
    const node = newNode(4, {
      storage: storedLog([1, 1, 2], { voters: [1, 2, 3], term: 3, commit: 1 }),
    });
    drain(node);
    const snapshot = {
      metadata: { index: 3, term: 3, confState: { voters: [1, 2, 4], learners: [] } },
      data: bytes('s'),
    };
    node.step({ type: 'snapshot', from: 1, to: 4, term: 3, snapshot });
    const ready = drain(node)!;
    expect(ready.snapshot).toEqual(snapshot);
    expect(ready.committedEntries).toEqual([]);
    expect(ready.messages).toMatchObject([{ type: 'append-response', index: 3, reject: false }]);
    expect(node.status()).toMatchObject({
      commit: 3,
      applied: 3,
      firstIndex: 4,
      confState: { voters: [1, 2, 4] },
    });
  });

  it('a stale snapshot (at or below the commit index) is answered with the commit index', () => {
    const node = newNode(2, {
      storage: storedLog([1, 1, 1], { voters: [1, 2], term: 1, commit: 3 }),
    });
    drain(node);
    node.step({
      type: 'snapshot',
      from: 1,
      to: 2,
      term: 1,
      snapshot: {
        metadata: { index: 2, term: 1, confState: { voters: [1, 2], learners: [] } },
        data: bytes('s'),
      },
    });
    expect(drain(node)!.messages).toMatchObject([
      { type: 'append-response', index: 3, reject: false },
    ]);
  });

  it('compact refuses indexes that are compacted already or not applied and durable', () => {
    const c = laggingFollower();
    const leader = c.node(1);
    expect(() => leader.compact(6, bytes('x'))).toThrow(/already compacted/);
    leader.propose(bytes('e'));
    expect(() => leader.compact(7, bytes('x'))).toThrow(/not applied and durable/);
  });

  it('a failed snapshot send puts the follower back into probing, and it is retried', () => {
    const c = laggingFollower();
    c.start(3);
    c.filter = (m) => m.type !== 'snapshot';
    c.tick([1], 2);
    const pr = () =>
      c
        .node(1)
        .status()
        .progress.find((p) => p.id === 3)!;
    expect(pr().state).toBe('snapshot');
    c.node(1).reportSnapshot(3, 'failed');
    expect(pr().state).toBe('probe');
    c.heal();
    c.tick([1], 3);
    expect(c.node(3).status().commit).toBe(6);
  });
});
