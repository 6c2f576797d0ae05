import { describe, expect, it } from 'vitest';
import { MemoryCluster, bytes, drain, newNode, text } from './support/memory-cluster.js';

function reads(c: MemoryCluster, id: number): [string, number][] {
  return c.readStates.get(id)!.map((rs) => [text(rs.context), rs.index]);
}

/** A lease-mode cluster with a settled leader (replicas first sit out their startup lease). */
function leaseCluster(): { c: MemoryCluster; leader: number } {
  const c = new MemoryCluster([1, 2, 3], { readOnly: 'lease-based', checkQuorum: true });
  for (let i = 0; i < 100 && c.leaderId() === undefined; i++) c.tickAll();
  const leader = c.leaderId()!;
  c.tickAll(2);
  return { c, leader };
}

describe('linearizable reads with ReadIndex (§6.4)', () => {
  it('§6.4 a new leader answers reads only once an entry of its term is committed', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.filter = (m) => !(m.type === 'append' && m.entries.length > 0);
    c.elect(1);
    expect(c.node(1).commitIndex).toBe(1);
    expect(c.node(1).readIndex(bytes('r1'))).toEqual({ ok: true });
    c.tick([1], 3);
    expect(reads(c, 1)).toEqual([]);
    c.heal();
    c.tick([1], 2);
    expect(reads(c, 1)).toEqual([['r1', 2]]);
  });

  it('§6.4 the leader confirms leadership with a heartbeat round before answering', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.node(1).readIndex(bytes('r1'));
    const round = c.takeQueued();
    expect(round.map((m) => [m.type, m.to])).toEqual([
      ['heartbeat', 2],
      ['heartbeat', 3],
    ]);
    expect(reads(c, 1)).toEqual([]);
    // One acknowledgement plus the leader itself is a quorum.
    c.node(1).step({
      type: 'heartbeat-response',
      from: 2,
      to: 1,
      term: 2,
      index: (round[0] as { index: number }).index,
      lostLog: false,
    });
    c.processReadies();
    expect(reads(c, 1)).toEqual([['r1', 2]]);
  });

  it('§6.4 a leader cut off from the quorum never answers (a stale leader cannot serve reads)', () => {
    const c = new MemoryCluster([1, 2, 3], { checkQuorum: false });
    c.elect(1);
    c.isolate(1);
    c.node(1).readIndex(bytes('r1'));
    c.tick([1], 30);
    expect(c.node(1).role).toBe('leader');
    expect(reads(c, 1)).toEqual([]);
  });

  it('§6.4 a follower read is confirmed by the leader and answered with its commit index', () => {
    const c = new MemoryCluster([1, 2, 3]);
    c.elect(1);
    c.isolate(3);
    c.node(1).propose(bytes('a'));
    c.deliverAll();
    c.heal();
    expect(c.node(3).commitIndex).toBe(2);
    expect(c.node(3).readIndex(bytes('f1'))).toEqual({ ok: true });
    c.deliverAll();
    // Index 3 was committed before the read: the follower must apply it before answering.
    expect(reads(c, 3)).toEqual([['f1', 3]]);
  });

  it('a replica that knows no leader refuses the read', () => {
    const node = newNode(1, { bootstrap: { voters: [1, 2, 3], learners: [] } });
    drain(node);
    expect(node.readIndex(bytes('r'))).toEqual({ ok: false, reason: 'no-leader' });
  });

  it('a lone voter answers at once', () => {
    const c = new MemoryCluster([1]);
    c.elect(1);
    c.node(1).readIndex(bytes('r'));
    c.processReadies();
    expect(reads(c, 1)).toEqual([['r', 2]]);
  });
});

describe('lease-based reads (§6.4.1)', () => {
  it('§6.4.1 within the lease the leader answers without a heartbeat round', () => {
    const { c, leader } = leaseCluster();
    c.node(leader).readIndex(bytes('r1'));
    const sent = c.takeQueued();
    expect(sent.filter((m) => m.type === 'heartbeat')).toEqual([]);
    expect(reads(c, leader)).toEqual([['r1', c.node(leader).commitIndex]]);
  });

  it('§6.4.1 once the lease has run out, a read needs a heartbeat round again', () => {
    const { c, leader } = leaseCluster();
    // Heartbeat acknowledgements (which renew the lease) are lost; appends still flow, so the
    // leader keeps hearing from a quorum and stays leader.
    c.filter = (m) => m.type !== 'heartbeat-response';
    for (let i = 0; i < 9; i++) {
      c.node(leader).propose(bytes(`w${i}`));
      c.tick([leader]);
    }
    expect(c.node(leader).role).toBe('leader');
    c.node(leader).readIndex(bytes('late'));
    expect(c.takeQueued().filter((m) => m.type === 'heartbeat')).toHaveLength(2);
    c.deliverAll();
    expect(reads(c, leader)).toEqual([]);
  });

  it('§3.10 after sending TimeoutNow the leader no longer trusts its lease', () => {
    const { c, leader } = leaseCluster();
    const target = leader === 1 ? 2 : 1;
    c.filter = (m) => m.type !== 'timeout-now';
    expect(c.node(leader).transferLeadership(target)).toEqual({ ok: true });
    c.deliverAll();
    c.node(leader).readIndex(bytes('r'));
    expect(c.takeQueued().filter((m) => m.type === 'heartbeat')).toHaveLength(2);
    expect(reads(c, leader)).toEqual([]);
  });

  it('a replica that just (re)started ignores vote requests for an election timeout', () => {
    const node = newNode(1, {
      readOnly: 'lease-based',
      bootstrap: { voters: [1, 2, 3], learners: [] },
    });
    drain(node);
    node.step({ type: 'vote', from: 2, to: 1, term: 5, index: 1, logTerm: 1, transfer: false });
    expect(node.term).toBe(1);
    for (let i = 0; i < 10; i++) node.tick();
    node.step({ type: 'vote', from: 2, to: 1, term: 5, index: 1, logTerm: 1, transfer: false });
    expect(node.term).toBe(5);
  });
});

describe('per-request lease reads with leaseReads (§6.4.1)', () => {
  function settled(options: { leaseReads: boolean }): { c: MemoryCluster; leader: number } {
    const c = new MemoryCluster([1, 2, 3], { checkQuorum: true, ...options });
    for (let i = 0; i < 100 && c.leaderId() === undefined; i++) c.tickAll();
    const leader = c.leaderId()!;
    c.tickAll(2);
    return { c, leader };
  }

  it('§6.4.1 a settled leader holds a lease; ReadIndex still confirms with a heartbeat round', () => {
    const { c, leader } = settled({ leaseReads: true });
    expect(c.node(leader).hasValidLease()).toBe(true);
    c.node(leader).readIndex(bytes('r1'));
    expect(c.takeQueued().filter((m) => m.type === 'heartbeat')).toHaveLength(2);
  });

  it('§6.4.1 the lease runs out when no heartbeat round is acknowledged for an election timeout', () => {
    const { c, leader } = settled({ leaseReads: true });
    c.filter = (m) => m.type !== 'heartbeat-response';
    for (let i = 0; i < 9; i++) {
      c.node(leader).propose(bytes(`w${i}`));
      c.tick([leader]);
    }
    expect(c.node(leader).role).toBe('leader');
    expect(c.node(leader).hasValidLease()).toBe(false);
  });

  it('without leaseReads there is no lease, and followers are not held back at start', () => {
    const { c, leader } = settled({ leaseReads: false });
    expect(c.node(leader).hasValidLease()).toBe(false);
    const node = newNode(1, { checkQuorum: true, bootstrap: { voters: [1, 2, 3], learners: [] } });
    drain(node);
    node.step({ type: 'vote', from: 2, to: 1, term: 5, index: 1, logTerm: 1, transfer: false });
    expect(node.term).toBe(5);
  });

  it('leaseReads needs checkQuorum', () => {
    expect(() => newNode(1, { leaseReads: true, checkQuorum: false })).toThrow(/leaseReads/);
  });
});
