// The in-process transport: the shared contract plus the network's fault knobs.
import { afterEach, describe, expect, it } from 'vitest';
import { createPrng } from '@catmesh/faults';
import { InMemoryRaftNetwork, type RaftTransport } from '../src/transport/index.js';
import { transportContract } from './transport-contract.js';
import {
  append,
  connectInMemory,
  Inbox,
  makeInMemoryCluster,
  sleep,
  waitForAcks,
} from './transport-harness.js';

transportContract('in-memory', makeInMemoryCluster);

describe('InMemoryRaftNetwork', () => {
  let transports: RaftTransport[] = [];
  afterEach(async () => {
    await Promise.all(transports.map((t) => t.close()));
    transports = [];
  });

  /** Sends one message from every node to every other and waits until the network is idle. */
  async function exchange(nodes: readonly RaftTransport[], index: number): Promise<void> {
    for (const from of nodes) {
      from.send(
        nodes.filter((to) => to !== from).map((to) => append(from.localId, to.localId, index)),
      );
    }
    await expect
      .poll(
        () => nodes.every((n) => n.status().peers.every((p) => p.queued === 0 && p.inFlight === 0)),
        { message: 'the network to go idle' },
      )
      .toBe(true);
  }

  it('partitions into groups and heals', async () => {
    const network = new InMemoryRaftNetwork();
    transports = connectInMemory(network, [1, 2, 3]);
    const inboxes = transports.map((t) => new Inbox(t));
    network.partition([1, 2], [3]);
    await exchange(transports, 1);
    expect(inboxes[0]!.indexesFrom(2)).toEqual([1]);
    expect(inboxes[1]!.indexesFrom(1)).toEqual([1]);
    expect(inboxes[2]!.byPeer.size).toBe(0);
    expect(inboxes[0]!.indexesFrom(3)).toEqual([]);
    expect(transports[2]!.status().peers.map((p) => p.dropped)).toEqual([1, 1]);

    network.heal();
    await exchange(transports, 2);
    expect(inboxes[2]!.indexesFrom(1)).toEqual([2]);
    expect(inboxes[0]!.indexesFrom(3)).toEqual([2]);
  });

  it('isolates a node left out of every group', async () => {
    const network = new InMemoryRaftNetwork();
    transports = connectInMemory(network, [1, 2, 3]);
    const inboxes = transports.map((t) => new Inbox(t));
    network.partition([1, 2]);
    await exchange(transports, 1);
    expect(inboxes[2]!.byPeer.size).toBe(0);
    expect(inboxes[0]!.indexesFrom(3)).toEqual([]);
    expect(inboxes[0]!.indexesFrom(2)).toEqual([1]);
  });

  it('blocks one direction of a link only', async () => {
    const network = new InMemoryRaftNetwork();
    transports = connectInMemory(network, [1, 2]);
    const [inboxOne, inboxTwo] = transports.map((t) => new Inbox(t));
    network.blockLink(1, 2);
    await exchange(transports, 1);
    expect(inboxTwo!.indexesFrom(1)).toEqual([]);
    expect(inboxOne!.indexesFrom(2)).toEqual([1]);
  });

  it('loses messages at the configured rate', async () => {
    const network = new InMemoryRaftNetwork({ random: createPrng(42).next });
    transports = connectInMemory(network, [1, 2]);
    const inbox = new Inbox(transports[1]!);
    network.setLossRate(0.3);
    const total = 1000;
    for (let i = 1; i <= total; i += 1) transports[0]!.send([append(1, 2, i)]);
    await expect
      .poll(() => transports[0]!.status().peers[0]!.queued, {
        message: 'the network to go idle',
      })
      .toBe(0);
    await expect
      .poll(() => transports[0]!.status().peers[0]!.inFlight, {
        message: 'deliveries to finish',
      })
      .toBe(0);
    const peer = transports[0]!.status().peers[0]!;
    expect(peer.sent + peer.dropped).toBe(total);
    expect(inbox.from(1).length).toBe(peer.sent);
    // 300 expected; a seeded draw, the bounds only guard against "none" or "all".
    expect(peer.dropped).toBeGreaterThan(200);
    expect(peer.dropped).toBeLessThan(400);
    // What survives keeps its order.
    const indexes = inbox.indexesFrom(1);
    expect(indexes).toEqual([...indexes].sort((a, b) => a - b));
    expect(() => network.setLossRate(1.5)).toThrow(RangeError);
  });

  it('queues (bounded) for a peer that is not attached yet, and delivers when it attaches', async () => {
    const network = new InMemoryRaftNetwork();
    const one = network.connect({ localId: 1, queueCapacity: 10 });
    transports = [one];
    one.updatePeer(2, 'mem://2');
    for (let i = 1; i <= 25; i += 1) one.send([append(1, 2, i)]);
    await sleep(20);
    expect(one.status().peers[0]).toMatchObject({ connected: false, queued: 10, dropped: 15 });

    const two = network.connect({ localId: 2 });
    transports.push(two);
    two.updatePeer(1, 'mem://1');
    const inbox = new Inbox(two);
    await waitForAcks(one, 2, 10);
    expect(inbox.indexesFrom(1)).toEqual(Array.from({ length: 10 }, (_, i) => 16 + i));
    expect(one.status().peers[0]).toMatchObject({ connected: true, sent: 10 });
  });

  it('lets a node restart under the same id', async () => {
    const network = new InMemoryRaftNetwork();
    transports = connectInMemory(network, [1, 2]);
    const [one, two] = transports as [RaftTransport, RaftTransport];
    const inbox = new Inbox(two);
    one.send([append(1, 2, 1)]);
    await expect.poll(() => inbox.from(1).length, { message: 'the first message' }).toBe(1);
    expect(() => network.connect({ localId: 2 })).toThrow(RangeError);

    await two.close();
    expect(one.status().peers[0]).toMatchObject({ connected: false, reconnects: 1 });
    const restarted = network.connect({ localId: 2 });
    transports = [one, restarted];
    restarted.updatePeer(1, 'mem://1');
    const newInbox = new Inbox(restarted);
    one.send([append(1, 2, 2)]);
    await waitForAcks(one, 2, 2);
    expect(newInbox.indexesFrom(1)).toEqual([2]);
    expect(one.status().peers[0]).toMatchObject({ connected: true, sent: 2 });
  });

  it('applies a fault filter given at construction and reports handler errors to onError', async () => {
    const network = new InMemoryRaftNetwork();
    const errors: unknown[] = [];
    const one = network.connect({
      localId: 1,
      faultFilter: (_from, to) => (to === 3 ? 'drop' : 'deliver'),
    });
    const two = network.connect({ localId: 2, onError: (error) => errors.push(error) });
    const three = network.connect({ localId: 3 });
    transports = [one, two, three];
    one.updatePeer(2, 'mem://2');
    one.updatePeer(3, 'mem://3');
    const failure = new Error('cannot step');
    two.onReceive(() => {
      throw failure;
    });
    const inboxThree = new Inbox(three);
    one.send([append(1, 2, 1), append(1, 3, 1)]);
    await expect.poll(() => errors.length, { message: 'the handler error' }).toBe(1);
    expect(errors).toEqual([failure]);
    expect(inboxThree.byPeer.size).toBe(0);
    expect(one.status().faults).toEqual({ dropped: 1, delayed: 0 });
  });

  it('holds one batch in flight while the handler is slow, and drops when the queue fills', async () => {
    const network = new InMemoryRaftNetwork();
    transports = connectInMemory(network, [1, 2], { queueCapacity: 20, maxBatchMessages: 4 });
    const [one, two] = transports as [RaftTransport, RaftTransport];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const taken: number[] = [];
    two.onReceive(async (messages) => {
      await gate;
      taken.push(...messages.map((m) => m.index));
    });
    for (let i = 1; i <= 4; i += 1) one.send([append(1, 2, i)]);
    await expect
      .poll(() => one.status().peers[0]!.inFlight, {
        message: 'the first batch to be in flight',
      })
      .toBe(4);
    for (let i = 5; i <= 40; i += 1) one.send([append(1, 2, i)]);
    expect(one.status().peers[0]).toMatchObject({ inFlight: 4, queued: 20, dropped: 16 });
    release();
    await expect.poll(() => taken.length, { message: 'the rest' }).toBe(24);
    expect(taken).toEqual([1, 2, 3, 4, ...Array.from({ length: 20 }, (_, i) => 21 + i)]);
  });
});
