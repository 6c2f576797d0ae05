// Behaviour both RaftTransport implementations share, run against each by its test file.
import { afterEach, describe, expect, it } from 'vitest';
import type { TransportDirection, TransportFaultFilter } from '../src/transport/index.js';
import { append, Inbox, sleep, type MakeCluster, type TestCluster } from './transport-harness.js';

export function transportContract(name: string, makeCluster: MakeCluster): void {
  describe(`${name}: the RaftTransport contract`, () => {
    let cluster: TestCluster | undefined;
    afterEach(async () => {
      await cluster?.close();
      cluster = undefined;
    });

    it('delivers every peer’s messages, in the order that peer sent them', async () => {
      cluster = await makeCluster([1, 2, 3]);
      const transports = cluster.transports;
      const inboxes = transports.map((t) => new Inbox(t));
      const perPeer = 300;
      // Interleaved, over many turns of the event loop, as a Raft loop would send.
      for (let round = 0; round < perPeer / 10; round += 1) {
        for (const sender of transports) {
          for (const receiver of transports) {
            if (receiver === sender) continue;
            const batch = Array.from({ length: 10 }, (_, i) =>
              append(sender.localId, receiver.localId, round * 10 + i + 1),
            );
            sender.send(batch);
          }
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
      const expected = Array.from({ length: perPeer }, (_, i) => i + 1);
      await expect
        .poll(() => transports.every((t) => t.status().peers.every((p) => p.sent === perPeer)), {
          message: 'all messages, acknowledged',
        })
        .toBe(true);
      for (const [i, inbox] of inboxes.entries()) {
        for (const [j, sender] of transports.entries()) {
          if (i !== j) expect(inbox.indexesFrom(sender.localId)).toEqual(expected);
        }
      }
      for (const transport of transports) {
        const status = transport.status();
        expect(status.inbound).toEqual({
          received: 2 * perPeer,
          rejected: 0,
          handlerErrors: 0,
          brokenSnapshots: 0,
          refusedCalls: 0,
        });
        for (const peer of status.peers) {
          expect(peer).toMatchObject({ connected: true, sent: perPeer, dropped: 0, queued: 0 });
          expect(peer.lastSentAt).toBeTypeOf('number');
        }
      }
    });

    it('drops messages to unknown peers without throwing, and counts them', async () => {
      cluster = await makeCluster([1, 2]);
      const [one] = cluster.transports;
      expect(() => one!.send([append(1, 9, 1), append(1, 1, 2)])).not.toThrow();
      expect(one!.status().unknownPeerDropped).toBe(2);
      one!.removePeer(2);
      one!.send([append(1, 2, 3)]);
      expect(one!.status()).toMatchObject({ unknownPeerDropped: 3, peers: [] });
    });

    it('consults the fault filter per message and direction: drop and delay as told', async () => {
      cluster = await makeCluster([1, 2, 3]);
      const [one, two, three] = cluster.transports as [
        (typeof cluster.transports)[number],
        (typeof cluster.transports)[number],
        (typeof cluster.transports)[number],
      ];
      const inboxTwo = new Inbox(two);
      const inboxThree = new Inbox(three);
      const calls: [number, number, TransportDirection][] = [];
      const delayMs = 150;
      const outbound: TransportFaultFilter = (from, to, direction) => {
        calls.push([from, to, direction]);
        if (to === 3) return 'drop';
        if (to === 2) return { delayMs };
        return 'deliver';
      };
      const inbound: TransportFaultFilter = (from, to, direction) => {
        calls.push([from, to, direction]);
        return direction === 'inbound' && from === 3 ? 'drop' : 'deliver';
      };
      one.setFaultFilter(outbound);
      two.setFaultFilter(inbound);

      const sentAt = Date.now();
      one.send([append(1, 2, 1), append(1, 3, 1)]);
      three.send([append(3, 2, 1)]);
      // Let the filtered messages meet their fate, then lift the faults and send markers behind
      // them on the same links: per-peer order means a marker arrives after anything sent before.
      await expect
        .poll(() => calls.some(([from, , d]) => from === 3 && d === 'inbound'), {
          message: 'inbound filter on node 2 to see node 3',
        })
        .toBe(true);
      one.setFaultFilter(undefined);
      two.setFaultFilter(undefined);
      one.send([append(1, 2, 2), append(1, 3, 2)]);
      three.send([append(3, 2, 2)]);

      await expect
        .poll(
          () =>
            inboxTwo.from(1).length === 2 &&
            inboxTwo.from(3).length === 1 &&
            inboxThree.from(1).length === 1,
          { message: 'markers and the delayed message' },
        )
        .toBe(true);
      // The delayed message comes after the marker that was sent later, and not before its delay
      // (timers may fire a millisecond early).
      expect(inboxTwo.indexesFrom(1)).toEqual([2, 1]);
      const delayed = inboxTwo.from(1)[1]!;
      expect(inboxTwo.arrivedAt.get(delayed)! - sentAt).toBeGreaterThanOrEqual(delayMs - 2);
      expect(inboxThree.indexesFrom(1)).toEqual([2]);
      expect(inboxTwo.indexesFrom(3)).toEqual([2]);
      expect(calls).toContainEqual([1, 3, 'outbound']);
      expect(calls).toContainEqual([1, 2, 'outbound']);
      expect(calls).toContainEqual([3, 2, 'inbound']);
      expect(one.status().faults).toEqual({ dropped: 1, delayed: 1 });
      expect(two.status().faults).toEqual({ dropped: 1, delayed: 0 });
    });

    it('drops delayed messages that are still waiting when the transport closes', async () => {
      cluster = await makeCluster([1, 2]);
      const [one, two] = cluster.transports;
      const inbox = new Inbox(two!);
      one!.setFaultFilter(() => ({ delayMs: 100 }));
      one!.send([append(1, 2, 1)]);
      await one!.close();
      await sleep(200);
      expect(inbox.from(1)).toEqual([]);
      expect(() => one!.send([append(1, 2, 2)])).not.toThrow();
    });

    it('counts a failing receive handler and keeps delivering later batches', async () => {
      cluster = await makeCluster([1, 2]);
      const [one, two] = cluster.transports;
      const errors: unknown[] = [];
      let calls = 0;
      const taken: number[] = [];
      two!.onReceive(async (messages) => {
        calls += 1;
        await sleep(1);
        if (calls === 1) {
          errors.push('first');
          throw new Error('handler failed');
        }
        taken.push(...messages.map((m) => m.index));
      });
      one!.send([append(1, 2, 1)]);
      await expect
        .poll(() => two!.status().inbound.handlerErrors, { message: 'the failing batch' })
        .toBe(1);
      one!.send([append(1, 2, 2)]);
      await expect.poll(() => taken.length, { message: 'the next batch' }).toBe(1);
      expect(taken).toEqual([2]);
      expect(errors).toEqual(['first']);
      expect(two!.status().inbound).toEqual({
        received: 1,
        rejected: 0,
        handlerErrors: 1,
        brokenSnapshots: 0,
        refusedCalls: 0,
      });
    });

    it('rejects what arrives before a receive handler is set', async () => {
      cluster = await makeCluster([1, 2]);
      const [one, two] = cluster.transports;
      one!.send([append(1, 2, 1)]);
      await expect.poll(() => two!.status().inbound.rejected, { message: 'the rejection' }).toBe(1);
      const inbox = new Inbox(two!);
      one!.send([append(1, 2, 2)]);
      await expect.poll(() => inbox.from(1).length, { message: 'the next message' }).toBe(1);
      expect(inbox.indexesFrom(1)).toEqual([2]);
    });
  });
}
