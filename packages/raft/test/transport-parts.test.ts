// The transport's building blocks on their own: queue, batching by size, backoff, and the
// RaftPeerService handler used without a transport.
import { credentials, Server, ServerCredentials } from '@grpc/grpc-js';
import { raftV1 } from '@catmesh/proto';
import { freePort } from '@catmesh/testkit';
import { describe, expect, it } from 'vitest';
import { BoundedQueue } from '../src/transport/bounded-queue.js';
import { encodedSizeUpperBound, REQUEST_FIXED, takeBatch } from '../src/transport/message-batch.js';
import { reconnectDelay } from '../src/transport/reconnect-backoff.js';
import { createRaftPeerService, raftPeerServerOptions } from '../src/transport/index.js';
import { append, sleep } from './transport-harness.js';

describe('BoundedQueue', () => {
  it('keeps the newest items when full, in order, across wrap-around', () => {
    const queue = new BoundedQueue<number>(3);
    expect([1, 2, 3].map((i) => queue.push(i))).toEqual([false, false, false]);
    expect(queue.push(4)).toBe(true);
    expect(queue.shift()).toBe(2);
    expect(queue.push(5)).toBe(false);
    expect(queue.push(6)).toBe(true);
    expect(queue.length).toBe(3);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()]).toEqual([
      4,
      5,
      6,
      undefined,
    ]);
    queue.push(7);
    queue.clear();
    expect(queue.peek()).toBeUndefined();
    expect(queue.length).toBe(0);
  });
});

describe('message batches', () => {
  const big = (bytes: number, from = 1): raftV1.Message =>
    raftV1.Message.fromPartial({
      type: raftV1.MessageType.MESSAGE_TYPE_SNAPSHOT,
      from,
      to: Number.MAX_SAFE_INTEGER,
      term: Number.MAX_SAFE_INTEGER,
      logTerm: Number.MAX_SAFE_INTEGER,
      index: Number.MAX_SAFE_INTEGER,
      commit: Number.MAX_SAFE_INTEGER,
      reject: true,
      rejectHint: Number.MAX_SAFE_INTEGER,
      rejectHintTerm: Number.MAX_SAFE_INTEGER,
      context: Buffer.alloc(17),
      entries: [1, 2, 3].map((i) => ({
        term: Number.MAX_SAFE_INTEGER,
        index: i,
        type: raftV1.EntryType.ENTRY_TYPE_CONF_CHANGE,
        data: Buffer.alloc(bytes),
      })),
      snapshot: {
        metadata: {
          index: Number.MAX_SAFE_INTEGER,
          term: Number.MAX_SAFE_INTEGER,
          confState: {
            voters: [Number.MAX_SAFE_INTEGER, 2, 3],
            learners: [Number.MAX_SAFE_INTEGER],
          },
        },
        data: Buffer.alloc(bytes),
      },
    });

  it('bounds the encoded size of a message from above', () => {
    for (const message of [
      append(1, 2, 1),
      append(1, 2, 3, Buffer.alloc(1000)),
      big(0),
      big(70_000),
    ]) {
      const actual = raftV1.StreamRequest.encode({
        messages: [message],
        window: 0xffffffff,
      }).finish().length;
      expect(REQUEST_FIXED + encodedSizeUpperBound(message)).toBeGreaterThanOrEqual(actual);
    }
  });

  it('cuts batches by count and by encoded size, always taking at least one', () => {
    const queue = new BoundedQueue<raftV1.Message>(10);
    for (const bytes of [100, 100, 100, 5000, 100]) queue.push(big(bytes));
    const limit = REQUEST_FIXED + 3 * encodedSizeUpperBound(big(100));
    expect(takeBatch(queue, 2, limit)).toHaveLength(2);
    expect(takeBatch(queue, 10, limit)).toHaveLength(1); // the 5000-byte one would not fit
    const oversized = takeBatch(queue, 10, limit);
    expect(oversized).toHaveLength(1);
    expect(oversized[0]!.snapshot!.data.length).toBe(5000);
    expect(takeBatch(queue, 10, limit)).toHaveLength(1);
    expect(queue.length).toBe(0);
  });
});

describe('reconnectDelay', () => {
  const backoff = { initialDelayMs: 100, maxDelayMs: 5000 };
  it('doubles per attempt up to the cap, jittered within the upper half', () => {
    expect([0, 1, 2, 3].map((a) => reconnectDelay(a, backoff, () => 0))).toEqual([
      50, 100, 200, 400,
    ]);
    expect([0, 1, 2, 3].map((a) => reconnectDelay(a, backoff, () => 1))).toEqual([
      100, 200, 400, 800,
    ]);
    expect(reconnectDelay(10, backoff, () => 0.5)).toBe(3750);
    expect(reconnectDelay(1000, backoff, () => 1)).toBe(5000);
  });
});

describe('createRaftPeerService', () => {
  it('acknowledges a batch once receive settles, and fails the stream when receive throws', async () => {
    const port = await freePort();
    const batches: number[][] = [];
    const service = createRaftPeerService(async (messages) => {
      await sleep(20);
      if (messages.some((m) => m.index === 99)) throw new Error('cannot take 99');
      batches.push(messages.map((m) => m.index));
    });
    const server = new Server(raftPeerServerOptions());
    server.addService(raftV1.RaftPeerServiceService, service.implementation);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    const client = new raftV1.RaftPeerServiceClient(
      `127.0.0.1:${port}`,
      credentials.createInsecure(),
    );
    try {
      const acks: { received: number; batches: number }[] = [];
      const stream = client.stream();
      stream.on('data', (r: raftV1.StreamResponse) =>
        acks.push({ received: r.received, batches: batches.length }),
      );
      stream.on('error', () => undefined);
      const status = new Promise<{ code: number }>((resolve) => stream.on('status', resolve));
      stream.write({ messages: [append(1, 2, 1), append(1, 2, 2)], window: 0 });
      stream.write({ messages: [append(1, 2, 3)], window: 0 });
      stream.write({ messages: [append(1, 2, 99)], window: 0 });
      stream.write({ messages: [append(1, 2, 4)], window: 0 });
      expect((await status).code).toBe(13); // INTERNAL
      // Each ack came after its batch was taken; nothing after the failure was received.
      expect(acks).toEqual([
        { received: 2, batches: 1 },
        { received: 3, batches: 2 },
      ]);
      expect(batches).toEqual([[1, 2], [3]]);

      // A closed service refuses new streams.
      service.close();
      const refused = client.stream();
      refused.on('error', () => undefined);
      const refusal = await new Promise<{ code: number }>((resolve) =>
        refused.on('status', resolve),
      );
      expect(refusal.code).toBe(14); // UNAVAILABLE
    } finally {
      client.close();
      server.forceShutdown();
    }
  });
});
