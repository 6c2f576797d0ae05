// A replica defends itself: messages no correct peer sends, and messages from outside the
// configuration, are refused with a reason and counted, before they change anything.
import { describe, expect, it } from 'vitest';
import type { AppendMessage, Entry } from '../src/core/index.js';
import { bytes, drain, newNode, storedLog } from './support/memory-cluster.js';

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 'normal',
  data: bytes(`e${index}@${term}`),
});

function appendFrom2(entries: Entry[], extra: Partial<AppendMessage> = {}): AppendMessage {
  return {
    type: 'append',
    from: 2,
    to: 1,
    term: 3,
    index: 3,
    logTerm: 2,
    entries,
    commit: 0,
    ...extra,
  };
}

/** A follower of term 3 holding entries of terms 1, 1, 2, in a group of 1, 2, 3. */
const follower = () =>
  newNode(1, { storage: storedLog([1, 1, 2], { voters: [1, 2, 3], term: 3 }) });

describe('malformed appends (§5.3)', () => {
  it.each([
    [
      'not consecutive',
      [entry(4, 3), entry(6, 3)],
      /entries are not consecutive: entry 1 has index 6, expected 5/,
    ],
    ['not following prevLogIndex', [entry(5, 3)], /entry 0 has index 5, expected 4/],
    ['going back in term', [entry(4, 3), entry(5, 2)], /entry 5 has term 2, below the 3 before it/],
    ['below prevLogTerm', [entry(4, 1)], /entry 4 has term 1, below the 2 before it/],
    ["beyond the leader's term", [entry(4, 4)], /entry 4 has term 4, beyond the leader's term 3/],
  ])('§5.3 refuses an append whose entries are %s, and changes nothing', (_, entries, detail) => {
    const node = follower();
    drain(node);
    const before = node.status();
    const result = node.step(appendFrom2(entries));
    expect(result).toMatchObject({ ok: false, reason: 'malformed' });
    expect(!result.ok && result.detail).toMatch(detail);
    const after = node.status();
    expect(after).toMatchObject({
      lastIndex: before.lastIndex,
      commit: before.commit,
      term: 3,
      rejectedMessages: 1,
    });
    // Not even an answer: no correct leader sent it.
    expect(node.hasReady()).toBe(false);
  });

  it('§5.3 takes the next, well-formed append from the same leader', () => {
    const node = follower();
    drain(node);
    node.step(appendFrom2([entry(4, 3), entry(6, 3)]));
    expect(node.step(appendFrom2([entry(4, 3), entry(5, 3)], { commit: 5 }))).toEqual({ ok: true });
    expect(node.status()).toMatchObject({ lastIndex: 5, commit: 5, rejectedMessages: 1 });
  });

  it('answers a heartbeat whose commit is beyond its log by asking to be probed, without crashing', () => {
    const node = follower();
    drain(node);
    const result = node.step({ type: 'heartbeat', from: 2, to: 1, term: 3, commit: 9, index: 1 });
    expect(result).toEqual({ ok: true });
    // It commits no further than it holds, and tells the leader it lost what it had.
    expect(node.status().commit).toBe(node.status().lastIndex);
    expect(drain(node)?.messages).toEqual([
      { type: 'heartbeat-response', from: 1, to: 2, term: 3, index: 1, lostLog: true },
    ]);
  });

  it('§7 refuses a snapshot with no voters or a term beyond the sender’s', () => {
    const node = follower();
    drain(node);
    const snapshot = (term: number, voters: number[]) => ({
      metadata: { index: 9, term, confState: { voters, learners: [] } },
      data: bytes('state'),
    });
    for (const s of [snapshot(4, [1, 2, 3]), snapshot(3, []), snapshot(3, [0])]) {
      expect(node.step({ type: 'snapshot', from: 2, to: 1, term: 3, snapshot: s })).toMatchObject({
        ok: false,
        reason: 'malformed',
      });
    }
    expect(node.status()).toMatchObject({ lastIndex: 3, rejectedMessages: 3 });
  });
});

describe('messages from outside the configuration', () => {
  it('§4.2.3 refuses a vote request from a node not in the configuration, keeping its term', () => {
    const node = follower();
    drain(node);
    const result = node.step({
      type: 'vote',
      from: 9,
      to: 1,
      term: 7,
      index: 10,
      logTerm: 7,
      transfer: false,
    });
    expect(result).toMatchObject({ ok: false, reason: 'not-a-member' });
    expect(!result.ok && result.detail).toMatch(/vote from 9: not a member .*voters 1,2,3/);
    expect(node.status()).toMatchObject({ term: 3, vote: 0, rejectedMessages: 1 });
    expect(node.hasReady()).toBe(false);
  });

  it('§4.2.3 refuses the append of a removed leader of an older term without answering it', () => {
    const node = follower();
    drain(node);
    const stale = node.step(appendFrom2([], { from: 9, term: 2 }));
    expect(stale).toMatchObject({ ok: false, reason: 'not-a-member' });
    expect(node.hasReady()).toBe(false);
  });

  it('§4.1 takes the appends of a leader it does not know yet: a joiner learns its configuration from them', () => {
    const joiner = newNode(4);
    const result = joiner.step({
      type: 'append',
      from: 1,
      to: 4,
      term: 2,
      index: 0,
      logTerm: 0,
      entries: [],
      commit: 0,
    });
    expect(result).toEqual({ ok: true });
    expect(joiner.leader).toBe(1);
    expect(drain(joiner)!.messages).toMatchObject([
      { type: 'append-response', to: 1, reject: false },
    ]);
  });
});
