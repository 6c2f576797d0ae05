import { describe, expect, it } from 'vitest';
import { NONE, RaftNode, type Message, type VoteMessage } from '../src/core/index.js';
import { MemoryCluster, drain, newNode, storedLog } from './support/memory-cluster.js';

const BOOT = { voters: [1, 2, 3], learners: [] };

function vote(
  from: number,
  to: number,
  term: number,
  index: number,
  logTerm: number,
  type: 'vote' | 'pre-vote' = 'vote',
): VoteMessage {
  return { type, from, to, term, index, logTerm, transfer: false };
}

function responses(node: RaftNode): readonly Message[] {
  return drain(node)?.messages ?? [];
}

describe('elections (§5.2)', () => {
  it('§5.2 randomizes the election timeout in [electionTick, 2*electionTick)', () => {
    for (const r of [0, 0.25, 0.5, 0.999]) {
      const node = new RaftNode({
        id: 1,
        electionTick: 10,
        heartbeatTick: 1,
        random: () => r,
        preVote: false,
        bootstrap: BOOT,
      });
      let ticks = 0;
      while (node.role === 'follower') {
        node.tick();
        ticks++;
      }
      expect(ticks).toBe(10 + Math.floor(r * 10));
      expect(node.role).toBe('candidate');
    }
  });

  it('§5.2 a candidate increments its term, votes for itself and asks every voter, persisting the vote first', () => {
    const node = newNode(1, { preVote: false, bootstrap: BOOT });
    drain(node);
    for (let i = 0; i < 20 && node.role === 'follower'; i++) node.tick();
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 2, vote: 1, commit: 1 });
    expect(ready.mustSync).toBe(true);
    expect(ready.messages.map((m) => [m.type, m.to, m.term])).toEqual([
      ['vote', 2, 2],
      ['vote', 3, 2],
    ]);
  });

  it('§5.2 a candidate with votes from a majority becomes leader and appends a no-op', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    expect(c.node(1).term).toBe(2);
    expect(c.node(2).leader).toBe(1);
    expect(c.node(3).leader).toBe(1);
    // The no-op of term 2 at index 2 is committed and applied everywhere.
    for (const id of [1, 2, 3]) {
      expect(c.applied.get(id)!.map((e) => [e.index, e.term, e.data.byteLength])).toEqual([
        [1, 1, expect.any(Number)],
        [2, 2, 0],
      ]);
    }
  });

  it('§5.2 grants at most one vote per term (repeating it for the same candidate)', () => {
    const node = newNode(1, { bootstrap: BOOT });
    drain(node);
    node.step(vote(2, 1, 2, 1, 1));
    expect(responses(node)).toMatchObject([{ type: 'vote-response', to: 2, reject: false }]);
    node.step(vote(3, 1, 2, 1, 1));
    expect(responses(node)).toMatchObject([{ type: 'vote-response', to: 3, reject: true }]);
    node.step(vote(2, 1, 2, 1, 1));
    expect(responses(node)).toMatchObject([{ type: 'vote-response', to: 2, reject: false }]);
  });

  it('§5.4.1 rejects a vote for a candidate with a less up-to-date log', () => {
    // Our log: terms 1,1,2 (last entry index 3, term 2).
    const make = () =>
      newNode(1, { storage: storedLog([1, 1, 2], { voters: [1, 2, 3], term: 2 }) });
    const cases: [index: number, logTerm: number, granted: boolean][] = [
      [3, 1, false], // lower last term, same length
      [2, 2, false], // same last term, shorter log
      [9, 1, false], // longer, but lower last term
      [3, 2, true], // identical
      [4, 2, true], // same last term, longer
      [1, 3, true], // higher last term wins even if shorter
    ];
    for (const [index, logTerm, granted] of cases) {
      const node = make();
      node.step(vote(2, 1, 5, index, logTerm));
      expect(responses(node), `candidate last entry ${index}@${logTerm}`).toMatchObject([
        { type: 'vote-response', reject: !granted },
      ]);
      expect(node.term).toBe(5);
    }
  });

  it('§5.1 a leader or candidate that sees a higher term becomes a follower', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    const leader = c.node(1);
    leader.step({
      type: 'append-response',
      from: 2,
      to: 1,
      term: 7,
      index: 0,
      reject: false,
      rejectHint: 0,
      rejectHintTerm: 0,
    });
    expect(leader.role).toBe('follower');
    expect(leader.term).toBe(7);
  });

  it('§5.2 a candidate that hears from a leader of its term steps down to follower', () => {
    const node = newNode(1, { preVote: false, bootstrap: BOOT });
    for (let i = 0; i < 20 && node.role === 'follower'; i++) node.tick();
    expect(node.role).toBe('candidate');
    node.step({ type: 'heartbeat', from: 2, to: 1, term: node.term, commit: 0, index: 1 });
    expect(node.role).toBe('follower');
    expect(node.leader).toBe(2);
  });

  it('§5.2 a candidate rejected by a majority returns to follower', () => {
    const node = newNode(1, { preVote: false, bootstrap: BOOT });
    for (let i = 0; i < 20 && node.role === 'follower'; i++) node.tick();
    const term = node.term;
    node.step({ type: 'vote-response', from: 2, to: 1, term, reject: true });
    expect(node.role).toBe('candidate');
    node.step({ type: 'vote-response', from: 3, to: 1, term, reject: true });
    expect(node.role).toBe('follower');
  });

  it("counts only voters: a learner's vote does not elect anyone, and learners never campaign", () => {
    const node = newNode(1, { preVote: false, bootstrap: { voters: [1, 2, 3], learners: [4] } });
    for (let i = 0; i < 20 && node.role === 'follower'; i++) node.tick();
    const term = node.term;
    node.step({ type: 'vote-response', from: 4, to: 1, term, reject: false });
    expect(node.role).toBe('candidate');
    node.step({ type: 'vote-response', from: 2, to: 1, term, reject: false });
    expect(node.role).toBe('leader');

    const learner = newNode(4, { bootstrap: { voters: [1, 2, 3], learners: [4] } });
    for (let i = 0; i < 100; i++) learner.tick();
    expect(learner.role).toBe('follower');
    expect(learner.term).toBe(1);
  });
});

describe('PreVote (§9.6)', () => {
  it('§9.6 a partitioned replica does not raise its term, so rejoining does not depose the leader', () => {
    const c = new MemoryCluster([1, 2, 3], { preVote: true });
    c.elect(1);
    const term = c.node(1).term;
    c.isolate(3);
    c.tick([3], 100);
    expect(c.node(3).term).toBe(term);
    expect(c.node(3).role).toBe('pre-candidate');
    c.heal();
    c.tickAll(5);
    expect(c.node(1).role).toBe('leader');
    expect(c.node(1).term).toBe(term);
    expect(c.node(3).leader).toBe(1);
  });

  it('without PreVote the same partition makes the rejoining replica depose the leader', () => {
    const c = new MemoryCluster([1, 2, 3], { preVote: false, checkQuorum: false });
    c.elect(1);
    const term = c.node(1).term;
    c.isolate(3);
    c.tick([3], 100);
    expect(c.node(3).term).toBeGreaterThan(term + 3);
    c.heal();
    // Its next campaign, at a term far ahead, forces everyone into a new election.
    for (let i = 0; i < 30 && c.node(1).term === term; i++) c.tickAll();
    expect(c.node(1).term).toBeGreaterThan(term + 3);
  });

  it('§9.6 granting a pre-vote changes neither the term nor the recorded vote', () => {
    const node = newNode(1, { bootstrap: BOOT });
    drain(node);
    node.step(vote(2, 1, 2, 1, 1, 'pre-vote'));
    const ready = drain(node)!;
    expect(ready.messages).toMatchObject([{ type: 'pre-vote-response', reject: false, term: 2 }]);
    expect(ready.hardState).toBeUndefined();
    expect(node.term).toBe(1);
    expect(node.status().vote).toBe(NONE);
  });

  it('§9.6 a pre-candidate becomes a candidate (new term) only with a majority of pre-votes', () => {
    const node = newNode(1, { preVote: true, bootstrap: BOOT });
    for (let i = 0; i < 20 && node.role === 'follower'; i++) node.tick();
    expect(node.role).toBe('pre-candidate');
    expect(node.term).toBe(1);
    const msgs = responses(node);
    expect(msgs.map((m) => [m.type, m.term])).toEqual([
      ['pre-vote', 2],
      ['pre-vote', 2],
    ]);
    node.step({ type: 'pre-vote-response', from: 2, to: 1, term: 2, reject: false });
    expect(node.role).toBe('candidate');
    expect(node.term).toBe(2);
  });
});

describe('CheckQuorum and leases against disruption (§6.2, §4.2.3)', () => {
  it('§6.2 a leader that hears from no quorum for an election timeout steps down', () => {
    const c = new MemoryCluster([1, 2, 3], { checkQuorum: true });
    c.elect(1);
    c.isolate(1);
    c.tick([1], 20);
    expect(c.node(1).role).toBe('follower');
    expect(c.node(1).leader).toBe(NONE);
  });

  it('without CheckQuorum an isolated leader keeps believing it leads', () => {
    const c = new MemoryCluster([1, 2, 3], { checkQuorum: false });
    c.elect(1);
    c.isolate(1);
    c.tick([1], 50);
    expect(c.node(1).role).toBe('leader');
  });

  it('§4.2.3 a follower that heard from its leader within the election timeout ignores vote requests', () => {
    const c = new MemoryCluster([1, 2, 3], { checkQuorum: true, preVote: false });
    c.elect(1);
    const follower = c.node(2);
    const term = follower.term;
    follower.step(vote(3, 2, term + 1, 100, term));
    expect(follower.term).toBe(term);
    expect(c.takeQueued().filter((m) => m.from === 2)).toEqual([]);
    // Once the lease has run out (no heartbeats) the same request is answered.
    c.isolate(1);
    c.tick([2], 10);
    follower.step(vote(3, 2, term + 1, 100, term));
    expect(follower.term).toBe(term + 1);
  });

  it('a deposed leader cut off from a new term learns it from the reply to its stale append', () => {
    const c = new MemoryCluster([1, 2, 3], { checkQuorum: true, preVote: true });
    c.elect(1);
    c.isolate(1);
    for (let i = 0; i < 50 && c.node(2).role !== 'leader' && c.node(3).role !== 'leader'; i++) {
      c.tick([2, 3]);
    }
    const newLeader = [2, 3].find((id) => c.node(id).role === 'leader');
    expect(newLeader).toBeDefined();
    expect(c.node(1).role).toBe('leader');
    c.heal();
    c.node(1).propose(new Uint8Array([1]));
    c.deliverAll();
    expect(c.node(1).role).toBe('follower');
    expect(c.node(1).term).toBe(c.node(newLeader!).term);
  });
});
