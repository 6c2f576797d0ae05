import { describe, expect, it } from 'vitest';
import {
  ConfChangeDecodeError,
  applyConfChange,
  decodeConfChangeEntry,
  encodeConfChangeEntry,
  type Entry,
} from '../src/core/index.js';
import { MemoryCluster, bytes, drain, newNode } from './support/memory-cluster.js';

function confEntry(index: number, term: number, voters: number[], learners: number[]): Entry {
  return {
    index,
    term,
    type: 'conf-change',
    data: encodeConfChangeEntry({
      change: { type: 'add-learner', node: 4 },
      confState: { voters, learners },
    }),
  };
}

describe('membership changes (dissertation §4.1)', () => {
  it('§4.1 a learner receives the log but does not count toward commitment', () => {
    const c = new MemoryCluster([1, 2, 3], {}, [4]);
    c.elect(1);
    c.filter = (m) => m.to !== 2 && m.to !== 3;
    c.node(1).propose(bytes('a'));
    c.deliverAll();
    expect(c.node(4).status().lastIndex).toBe(3);
    expect(c.node(1).commitIndex).toBe(2);
    c.heal();
    c.tickAll(2);
    expect(c.node(1).commitIndex).toBe(3);
    expect(c.appliedText(4)).toEqual(['a']);
  });

  it('§4.1 a replica joining with empty storage learns the membership from the log, then is promoted', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    const added = c
      .node(1)
      .proposeConfChange({ type: 'add-learner', node: 5, context: bytes('10.0.0.5:7000') });
    expect(added).toMatchObject({ ok: true, index: 3 });
    c.start(5);
    c.deliverAll();
    c.tickAll(2);
    expect(c.node(5).status().confState).toEqual({ voters: [1, 2, 3], learners: [5] });
    const entry = c.applied.get(5)!.find((e) => e.index === 3)!;
    expect(decodeConfChangeEntry(entry.data).change).toEqual({
      type: 'add-learner',
      node: 5,
      context: bytes('10.0.0.5:7000'),
    });

    expect(c.node(1).proposeConfChange({ type: 'promote-learner', node: 5 })).toMatchObject({
      ok: true,
    });
    c.deliverAll();
    expect(c.node(5).status().confState).toEqual({ voters: [1, 2, 3, 5], learners: [] });
    // Four voters: a majority is three, so the leader and node 5 alone cannot commit.
    c.filter = (m) => m.to !== 2 && m.to !== 3;
    c.node(1).propose(bytes('x'));
    c.deliverAll();
    expect(c.node(1).commitIndex).toBe(4);
    c.filter = (m) => m.to !== 3;
    c.tick([1], 2);
    expect(c.node(1).commitIndex).toBe(5);
  });

  it('§4.1 one change at a time: the next is refused until the previous one commits', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.filter = () => false;
    expect(c.node(1).proposeConfChange({ type: 'add-learner', node: 4 })).toMatchObject({
      ok: true,
    });
    expect(c.node(1).proposeConfChange({ type: 'add-learner', node: 5 })).toEqual({
      ok: false,
      reason: 'conf-change-pending',
    });
    c.heal();
    c.tick([1], 2);
    expect(c.node(1).proposeConfChange({ type: 'add-learner', node: 5 })).toMatchObject({
      ok: true,
    });
  });

  it('§4.1 a new leader changes membership only after committing an entry of its own term', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.filter = (m) => !(m.type === 'append' && m.entries.length > 0);
    c.elect(1);
    expect(c.node(1).proposeConfChange({ type: 'add-learner', node: 4 })).toEqual({
      ok: false,
      reason: 'conf-change-pending',
    });
  });

  it('§4.1 a configuration takes effect when appended, before commit, and reverts if truncated', () => {
    const node = newNode(2, { bootstrap: { voters: [1, 2, 3], learners: [] } });
    drain(node);
    node.step({
      type: 'append',
      from: 1,
      to: 2,
      term: 2,
      index: 1,
      logTerm: 1,
      entries: [confEntry(2, 2, [1, 2, 3], [4])],
      commit: 1,
    });
    expect(node.commitIndex).toBe(1);
    expect(node.status().confState).toEqual({ voters: [1, 2, 3], learners: [4] });
    // A leader of term 3 never had that entry: it replaces index 2.
    const other: Entry = { index: 2, term: 3, type: 'normal', data: bytes('x') };
    node.step({
      type: 'append',
      from: 3,
      to: 2,
      term: 3,
      index: 1,
      logTerm: 1,
      entries: [other],
      commit: 1,
    });
    expect(node.status().confState).toEqual({ voters: [1, 2, 3], learners: [] });
  });

  it('§4.1 a leader counts a voter it adds as soon as the entry is in its log', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.filter = () => false;
    c.node(1).proposeConfChange({ type: 'add-voter', node: 4 });
    expect(c.node(1).status().confState.voters).toEqual([1, 2, 3, 4]);
    expect(
      c
        .node(1)
        .status()
        .progress.map((p) => p.id),
    ).toEqual([2, 3, 4]);
  });

  it('§4.2.2 a leader that removes itself keeps leading until the removal commits, then steps down', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.filter = (m) => m.to !== 3;
    expect(c.node(1).proposeConfChange({ type: 'remove', node: 1 })).toMatchObject({ ok: true });
    c.deliverAll();
    // Its own copy no longer counts: the new configuration {2,3} needs both 2 and 3.
    expect(c.node(1).role).toBe('leader');
    expect(c.node(1).commitIndex).toBe(2);
    expect(c.node(1).propose(bytes('x'))).toEqual({ ok: false, reason: 'not-leader', leader: 0 });
    c.heal();
    c.tick([1], 2);
    expect(c.node(1).role).toBe('follower');
    expect(c.node(2).commitIndex).toBe(3);
    // The others elect a leader among themselves; the removed replica never campaigns.
    for (let i = 0; i < 50 && c.node(2).role !== 'leader' && c.node(3).role !== 'leader'; i++)
      c.tickAll();
    expect([c.node(2).role, c.node(3).role]).toContain('leader');
    expect(c.node(1).role).toBe('follower');
  });

  it('removing a voter shrinks the quorum', () => {
    const c = new MemoryCluster([1, 2, 3, 4]);
    c.elect(1);
    c.crash(4);
    c.crash(3);
    c.node(1).propose(bytes('stuck'));
    c.deliverAll();
    expect(c.node(1).commitIndex).toBe(2);
    c.start(3);
    c.node(1).proposeConfChange({ type: 'remove', node: 4 });
    c.tick([1], 3);
    c.crash(3);
    c.node(1).propose(bytes('two of three'));
    c.deliverAll();
    expect(c.appliedText(1)).toEqual(['stuck', 'two of three']);
  });

  it('refuses changes that make no sense, naming why', () => {
    const c = new MemoryCluster([1, 2, 3], {}, [4]);
    c.elect(1);
    const cases = [
      [{ type: 'add-voter', node: 2 }, 'node 2 is already a voter'],
      [{ type: 'add-learner', node: 2 }, 'node 2 is a voter'],
      [{ type: 'add-learner', node: 4 }, 'node 4 is already a learner'],
      [{ type: 'promote-learner', node: 3 }, 'node 3 is not a learner'],
      [{ type: 'remove', node: 9 }, 'node 9 is not a member'],
      [{ type: 'add-voter', node: 0 }, 'node: 0 is not a valid node id'],
    ] as const;
    for (const [change, detail] of cases) {
      expect(c.node(1).proposeConfChange(change)).toEqual({
        ok: false,
        reason: 'invalid-conf-change',
        detail,
      });
    }
    expect(applyConfChange({ voters: [1], learners: [] }, { type: 'remove', node: 1 })).toEqual({
      ok: false,
      detail: 'node 1 is the last voter',
    });
    expect(applyConfChange({ voters: [1], learners: [2] }, { type: 'add-voter', node: 2 })).toEqual(
      {
        ok: true,
        confState: { voters: [1, 2], learners: [] },
      },
    );
  });
});

describe('conf-change entry encoding', () => {
  it('round-trips changes, memberships and contexts (ids beyond 32 bits included)', () => {
    const big = 2 ** 40 + 7;
    const entry = {
      change: { type: 'promote-learner' as const, node: big, context: bytes('ctx') },
      confState: { voters: [1, 300, big], learners: [70000] },
    };
    expect(decodeConfChangeEntry(encodeConfChangeEntry(entry))).toEqual(entry);
    const boot = { change: undefined, confState: { voters: [1, 2, 3], learners: [] } };
    expect(decodeConfChangeEntry(encodeConfChangeEntry(boot))).toEqual(boot);
  });

  it('rejects bytes that are not a conf-change entry', () => {
    expect(() => decodeConfChangeEntry(new Uint8Array([]))).toThrow(ConfChangeDecodeError);
    expect(() => decodeConfChangeEntry(new Uint8Array([9, 0, 0, 0, 0]))).toThrow(
      /format version 9/,
    );
    expect(() => decodeConfChangeEntry(new Uint8Array([1, 7, 1, 0, 0]))).toThrow(
      /unknown conf change type 7/,
    );
    expect(() => decodeConfChangeEntry(new Uint8Array([1, 1, 1, 3, 1]))).toThrow(/truncated/);
  });
});
