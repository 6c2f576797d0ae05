import { describe, expect, it } from 'vitest';
import { RaftConfigError, RaftNode, decodeConfChangeEntry, type Entry } from '../src/core/index.js';
import { MemoryCluster, bytes, drain, newNode, storedLog } from './support/memory-cluster.js';

const BOOT = { voters: [1, 2, 3], learners: [] };

describe('Ready and advance', () => {
  it('bootstrap: the first Ready persists a committed conf-change entry holding the membership', () => {
    const node = newNode(1, { bootstrap: BOOT });
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 1, vote: 0, commit: 1 });
    expect(ready.entries).toHaveLength(1);
    const [entry] = ready.entries as [Entry];
    expect(entry).toMatchObject({ index: 1, term: 1, type: 'conf-change' });
    expect(decodeConfChangeEntry(entry.data)).toEqual({ change: undefined, confState: BOOT });
    expect(ready.committedEntries).toEqual([entry]);
    expect(ready.softState).toBeUndefined();
    expect(ready.mustSync).toBe(true);
    node.advance(ready);
    expect(node.hasReady()).toBe(false);
    expect(node.status()).toMatchObject({ commit: 1, applied: 1, confState: BOOT });
  });

  it('§5.2 a vote is sent only in the Ready that persists it (messages follow durable state)', () => {
    const node = newNode(1, { bootstrap: BOOT });
    drain(node);
    node.step({ type: 'vote', from: 2, to: 1, term: 2, index: 1, logTerm: 1, transfer: false });
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 2, vote: 2, commit: 1 });
    expect(ready.mustSync).toBe(true);
    expect(ready.messages).toMatchObject([{ type: 'vote-response', reject: false }]);
  });

  it('a commit-only change does not need fsync', () => {
    const node = newNode(2, { storage: storedLog([1, 1], { voters: [1, 2], term: 1, commit: 1 }) });
    drain(node);
    node.step({ type: 'heartbeat', from: 1, to: 2, term: 1, commit: 2, index: 1 });
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 1, vote: 0, commit: 2 });
    expect(ready.entries).toEqual([]);
    expect(ready.mustSync).toBe(false);
    expect(ready.softState).toEqual({ leader: 1, role: 'follower' });
  });

  it('one Ready at a time: hasReady is false until advance, ready() twice throws, advance checks', () => {
    const node = newNode(1, { bootstrap: BOOT });
    const ready = node.ready();
    node.step({ type: 'vote', from: 2, to: 1, term: 2, index: 1, logTerm: 1, transfer: false });
    expect(node.hasReady()).toBe(false);
    expect(() => node.ready()).toThrow(/not been advanced/);
    expect(() => node.advance({ ...ready })).toThrow(/not the Ready/);
    node.advance(ready);
    expect(node.hasReady()).toBe(true);
    // The vote stepped in between comes in the next Ready.
    expect(node.ready().hardState).toMatchObject({ term: 2, vote: 2 });
  });

  it('entries replaced while their Ready was being persisted are handed out again', () => {
    const node = newNode(2, { storage: storedLog([1], { voters: [1, 2, 3], term: 2, commit: 1 }) });
    drain(node);
    const e = (index: number, term: number): Entry => ({
      index,
      term,
      type: 'normal',
      data: bytes(`${index}@${term}`),
    });
    node.step({
      type: 'append',
      from: 1,
      to: 2,
      term: 2,
      index: 1,
      logTerm: 1,
      entries: [e(2, 2), e(3, 2)],
      commit: 1,
    });
    const first = node.ready();
    expect(first.entries.map((x) => x.index)).toEqual([2, 3]);
    // Before storage finishes, a new leader replaces index 3.
    node.step({
      type: 'append',
      from: 3,
      to: 2,
      term: 3,
      index: 2,
      logTerm: 2,
      entries: [e(3, 3)],
      commit: 1,
    });
    node.advance(first);
    const second = node.ready();
    expect(second.entries.map((x) => [x.index, x.term])).toEqual([[3, 3]]);
  });

  it('a restarted replica resumes from its persisted term, vote and log and re-applies committed entries', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.node(1).propose(bytes('a'));
    c.node(1).propose(bytes('b'));
    c.deliverAll();
    const before = c.node(2).status();
    c.crash(2);
    c.start(2);
    const restarted = c.node(2);
    expect(restarted.term).toBe(before.term);
    expect(restarted.status()).toMatchObject({
      lastIndex: before.lastIndex,
      commit: before.commit,
      role: 'follower',
    });
    c.processReadies();
    expect(c.appliedText(2)).toEqual(['a', 'b']);
  });

  it('a replica restarted with `applied` re-applies only what follows it', () => {
    const storage = storedLog([1, 1, 1, 1], { voters: [1], term: 1, commit: 4 });
    const node = newNode(1, { storage, applied: 2 });
    expect(node.ready().committedEntries.map((e) => e.index)).toEqual([3, 4]);
  });

  it('reports role and leader changes as soft state', () => {
    const node = newNode(1, { preVote: false, bootstrap: { voters: [1], learners: [] } });
    drain(node);
    for (let i = 0; i < 20 && node.role !== 'leader'; i++) node.tick();
    const ready = node.ready();
    expect(ready.softState).toEqual({ leader: 1, role: 'leader' });
    // §10.2.1: a leader counts its own copy only once it is durable, so even a lone voter commits
    // its no-op in the Ready after the one that persists it.
    expect(ready.entries.map((e) => [e.index, e.term])).toEqual([[2, 2]]);
    expect(ready.committedEntries).toEqual([]);
    node.advance(ready);
    expect(node.ready().committedEntries.map((e) => [e.index, e.term])).toEqual([[2, 2]]);
  });

  it('§10.2.1 the leader counts itself toward a quorum only once its entries are durable', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    const leader = c.node(1);
    leader.propose(bytes('x'));
    const ready = leader.ready();
    const index = ready.entries.at(-1)!.index;
    // One follower acknowledges while the leader is still writing: not a quorum yet.
    leader.step({
      type: 'append-response',
      from: 2,
      to: 1,
      term: leader.term,
      index,
      reject: false,
      rejectHint: 0,
      rejectHintTerm: 0,
    });
    expect(leader.commitIndex).toBeLessThan(index);
    leader.advance(ready);
    expect(leader.commitIndex).toBe(index);
  });

  it('status reports per-peer progress and contact on the leader', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    c.tick([1], 5);
    const st = c.node(1).status();
    expect(st).toMatchObject({
      id: 1,
      role: 'leader',
      leader: 1,
      term: 2,
      commit: 2,
      lastIndex: 2,
    });
    const peer = (id: number) => st.progress.find((p) => p.id === id)!;
    expect(peer(2)).toMatchObject({ match: 2, state: 'replicate', ticksSinceContact: 0 });
    expect(peer(3).ticksSinceContact).toBe(5);
    expect(c.node(2).status().progress).toEqual([]);
  });
});

describe('configuration is checked at creation', () => {
  const base = { id: 1, electionTick: 10, heartbeatTick: 1, random: () => 0.5 };

  it('names the field that is wrong', () => {
    const bad: [Partial<typeof base> & Record<string, unknown>, RegExp][] = [
      [{ id: 0 }, /^id:/],
      [{ electionTick: 1 }, /^electionTick: must be greater than heartbeatTick/],
      [{ heartbeatTick: 0 }, /^heartbeatTick:/],
      [{ maxInflightMsgs: 0 }, /^maxInflightMsgs:/],
      [
        { readOnly: 'lease-based', checkQuorum: false },
        /^readOnly: 'lease-based' requires checkQuorum/,
      ],
      [{ readOnly: 'stale' }, /^readOnly:/],
      [{ bootstrap: { voters: [], learners: [] } }, /^bootstrap.voters:/],
      [{ bootstrap: { voters: [1], learners: [1] } }, /^bootstrap.learners:/],
    ];
    for (const [override, message] of bad) {
      expect(() => new RaftNode({ ...base, ...override })).toThrow(RaftConfigError);
      expect(() => new RaftNode({ ...base, ...override })).toThrow(message);
    }
  });

  it('rejects stored state that cannot be a log', () => {
    const gap = storedLog([1, 1, 1], { voters: [1], term: 1 });
    gap.entries.splice(1, 1);
    expect(() => new RaftNode({ ...base, storage: gap })).toThrow(
      /^storage.entries: expected index 2/,
    );
    const commit = storedLog([1], { voters: [1], term: 1, commit: 5 });
    expect(() => new RaftNode({ ...base, storage: commit })).toThrow(/^storage.hardState.commit/);
    const applied = storedLog([1], { voters: [1], term: 1, commit: 1 });
    expect(() => new RaftNode({ ...base, storage: applied, applied: 2 })).toThrow(/^applied:/);
  });

  it('accepts lease-based reads with checkQuorum', () => {
    expect(
      () => new RaftNode({ ...base, readOnly: 'lease-based', checkQuorum: true }),
    ).not.toThrow();
  });
});
