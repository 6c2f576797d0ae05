// The gRPC transport over real loopback sockets.
import { spawn } from 'node:child_process';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  credentials,
  Metadata,
  Server,
  ServerCredentials,
  type ServerDuplexStream,
} from '@grpc/grpc-js';
import { raftV1 } from '@catmesh/proto';
import { freePort } from '@catmesh/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CONNECT_TIMEOUT_MS } from '../src/transport/grpc-peer-link.js';
import { GrpcRaftTransport, raftPeerServerOptions } from '../src/transport/index.js';
import { transportContract } from './transport-contract.js';
import {
  append,
  closeGrpcCluster,
  grpcCluster,
  Inbox,
  makeGrpcCluster,
  sleep,
  startServer,
  stopServer,
  TEST_RECONNECT,
  waitForAcks,
  type GrpcNode,
} from './transport-harness.js';

transportContract('gRPC', makeGrpcCluster);

describe('GrpcRaftTransport', () => {
  // Run in the order pushed: transports close before the servers that host them stop, as a
  // service shuts down (a server's tryShutdown waits for the streams a transport holds open).
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  async function cluster(
    ids: readonly number[],
    options: Parameters<typeof grpcCluster>[1] = {},
  ): Promise<GrpcNode[]> {
    const nodes = await grpcCluster(ids, options);
    cleanups.push(() => closeGrpcCluster(nodes));
    return nodes;
  }

  it('batches what queues up under load into fewer StreamRequests than messages', async () => {
    const [one, two] = await cluster([1, 2], { maxInFlightMessages: 16, maxBatchMessages: 64 });
    const inbox = new Inbox(two!.transport);
    const total = 2000;
    // One message per send(): any batching is the transport's own, of what queued up behind the
    // window (a send of many messages would be one request even without it).
    for (let i = 1; i <= total; i += 1) {
      one!.transport.send([append(1, 2, i)]);
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await waitForAcks(one!.transport, 2, total);
    expect(inbox.indexesFrom(1)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const peer = one!.transport.status().peers[0]!;
    expect(peer.sent).toBe(total);
    // Counted where they arrive, not by the sender: each StreamRequest reaches the handler as one
    // call, and there were far fewer of them than messages.
    expect(inbox.batches).toBe(peer.batches);
    expect(inbox.batches).toBeLessThanOrEqual(total / 2);
  });

  it('keeps a down peer’s queue bounded, counts drops, and reconnects when the peer comes up', async () => {
    const downPort = await freePort();
    const one = new GrpcRaftTransport({
      localId: 1,
      queueCapacity: 100,
      reconnect: TEST_RECONNECT,
    });
    const two = new GrpcRaftTransport({ localId: 2, reconnect: TEST_RECONNECT });
    cleanups.push(async () => {
      await one.close();
      await two.close();
    });
    one.updatePeer(2, `127.0.0.1:${downPort}`);
    const inbox = new Inbox(two);

    // 5000 messages to a peer that is not there: send returns, never throws.
    for (let i = 1; i <= 5000; i += 1) one.send([append(1, 2, i)]);
    let peer = one.status().peers[0]!;
    expect(peer).toMatchObject({ connected: false, queued: 100, dropped: 4900, sent: 0 });
    // Failed connection attempts (every 20-200 ms here) change nothing about that.
    await sleep(300);
    peer = one.status().peers[0]!;
    expect(peer).toMatchObject({ connected: false, queued: 100, dropped: 4900, inFlight: 0 });

    const server = await startServer(two, downPort);
    cleanups.push(() => stopServer(server));
    await expect
      .poll(() => one.status().peers[0]!.connected, { message: 'the stream to reconnect' })
      .toBe(true);
    one.send([append(1, 2, 5001)]);
    await waitForAcks(one, 2, 101);
    // The queue kept the newest 100 (the oldest were evicted), and the new one follows them.
    expect(inbox.indexesFrom(1)).toEqual(Array.from({ length: 101 }, (_, i) => 4901 + i));
    expect(one.status().peers[0]).toMatchObject({ sent: 101, dropped: 4900, queued: 0 });
  });

  it('reconnects after the peer restarts', async () => {
    const [one, two] = await cluster([1, 2]);
    const inbox = new Inbox(two!.transport);
    one!.transport.send([append(1, 2, 1)]);
    await expect.poll(() => inbox.from(1).length, { message: 'the first message' }).toBe(1);
    // Acknowledged (shortly after it arrived): not one of the unacknowledged counted as dropped.
    await waitForAcks(one!.transport, 2, 1);

    two!.server!.forceShutdown();
    two!.server = undefined;
    await expect
      .poll(() => !one!.transport.status().peers[0]!.connected, { message: 'the stream to break' })
      .toBe(true);
    two!.server = await startServer(two!.transport, two!.port);
    await expect
      .poll(() => one!.transport.status().peers[0]!.connected, {
        message: 'the stream to come back',
      })
      .toBe(true);
    one!.transport.send([append(1, 2, 2)]);
    await waitForAcks(one!.transport, 2, 2);
    expect(inbox.indexesFrom(1)).toEqual([1, 2]);
    expect(one!.transport.status().peers[0]).toMatchObject({ reconnects: 1, sent: 2 });
  });

  it('dials again on a new channel when a connection never answers', async () => {
    const [one, two] = await cluster([1, 2]);
    // The peer's address first leads to a connection that never answers (a recreated pod's old
    // address behind a drop rule, as far as the channel can tell), then to the peer.
    const held: Socket[] = [];
    const proxy = createServer((client) => {
      if (held.length === 0) {
        held.push(client);
        return;
      }
      const upstream = connect({ host: '127.0.0.1', port: two!.port });
      client.pipe(upstream).pipe(client);
      client.on('error', () => upstream.destroy());
      upstream.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    cleanups.push(
      () =>
        new Promise((resolve) => {
          for (const socket of held) socket.destroy();
          proxy.close(() => resolve());
        }),
    );
    one!.transport.updatePeer(2, `127.0.0.1:${(proxy.address() as AddressInfo).port}`);
    const inbox = new Inbox(two!.transport);
    one!.transport.send([append(1, 2, 1)]);
    await expect
      .poll(() => one!.transport.status().peers[0]!.sent, { timeout: 4 * CONNECT_TIMEOUT_MS })
      .toBe(1);
    expect(inbox.indexesFrom(1)).toEqual([1]);
    expect(held).toHaveLength(1);
    expect(one!.transport.status().peers[0]!.redials).toBeGreaterThanOrEqual(1);
  });

  /**
   * A hand-written RaftPeerService that counts what arrives and acknowledges only when the test
   * says so: an independent check of the sender's window.
   */
  async function withholdingReceiver() {
    const port = await freePort();
    const state = { arrived: 0, acked: 0, maxUnacked: 0 };
    let call: ServerDuplexStream<raftV1.StreamRequest, raftV1.StreamResponse> | undefined;
    const server = new Server(raftPeerServerOptions());
    server.addService(raftV1.RaftPeerServiceService, {
      stream(stream: ServerDuplexStream<raftV1.StreamRequest, raftV1.StreamResponse>) {
        call = stream;
        stream.sendMetadata(new Metadata());
        stream.on('data', (request: raftV1.StreamRequest) => {
          state.arrived += request.messages.length;
          state.maxUnacked = Math.max(state.maxUnacked, state.arrived - state.acked);
        });
        stream.on('end', () => stream.end());
      },
    });
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (e) =>
        e ? reject(e) : resolve(),
      ),
    );
    cleanups.push(() => Promise.resolve(server.forceShutdown()));
    return {
      address: `127.0.0.1:${port}`,
      server,
      state,
      ack(received: number): void {
        state.acked = received;
        call!.write({ received });
      },
    };
  }

  it('never has more messages in flight than its window while the receiver withholds acks', async () => {
    const window = 8;
    const one = new GrpcRaftTransport({
      localId: 1,
      maxInFlightMessages: window,
      maxBatchMessages: 3,
    });
    cleanups.push(() => one.close());
    const receiver = await withholdingReceiver();
    const { state } = receiver;
    one.updatePeer(2, receiver.address);
    for (let i = 1; i <= 50; i += 1) one.send([append(1, 2, i)]);

    await expect.poll(() => state.arrived, { message: 'the window to fill' }).toBe(window);
    await sleep(200);
    expect(state.arrived).toBe(window);
    expect(one.status().peers[0]).toMatchObject({ inFlight: window, queued: 50 - window });

    // Acknowledge five: exactly five more may come.
    receiver.ack(5);
    await expect.poll(() => state.arrived, { message: 'the window to refill' }).toBe(5 + window);
    await sleep(200);
    expect(state.arrived).toBe(5 + window);

    // Then acknowledge whatever has arrived, until all 50 have.
    while (state.acked < 50) {
      await expect.poll(() => state.arrived > state.acked, { message: 'more arrivals' }).toBe(true);
      receiver.ack(state.arrived);
    }
    await waitForAcks(one, 2, 50);
    expect(state.maxUnacked).toBeLessThanOrEqual(window);
  });

  it('counts unacknowledged messages as dropped when the stream breaks', async () => {
    const one = new GrpcRaftTransport({ localId: 1, reconnect: TEST_RECONNECT });
    cleanups.push(() => one.close());
    const receiver = await withholdingReceiver();
    one.updatePeer(2, receiver.address);
    one.send([1, 2, 3, 4, 5].map((i) => append(1, 2, i)));
    await expect.poll(() => receiver.state.arrived, { message: 'five arrivals' }).toBe(5);
    receiver.ack(2);
    await waitForAcks(one, 2, 2);
    receiver.server.forceShutdown();
    await expect
      .poll(() => !one.status().peers[0]!.connected, { message: 'the stream to break' })
      .toBe(true);
    expect(one.status().peers[0]).toMatchObject({
      sent: 2,
      dropped: 3,
      inFlight: 0,
      queued: 0,
      reconnects: 1,
    });
  });

  it('holds its window when the receive handler is slow, and loses nothing', async () => {
    const window = 8;
    const [one, two] = await cluster([1, 2], { maxInFlightMessages: window, maxBatchMessages: 4 });
    const taken: number[] = [];
    let maxInFlight = 0;
    two!.transport.onReceive(async (messages) => {
      maxInFlight = Math.max(maxInFlight, one!.transport.status().peers[0]!.inFlight);
      await sleep(5);
      taken.push(...messages.map((m) => m.index));
    });
    for (let i = 1; i <= 200; i += 1) one!.transport.send([append(1, 2, i)]);
    await expect
      .poll(() => taken.length, { message: 'a slow receiver to take everything' })
      .toBe(200);
    expect(taken).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(maxInFlight).toBeGreaterThan(0);
    expect(maxInFlight).toBeLessThanOrEqual(window);
  });

  it('carries a snapshot three times its message size limit in chunks, beside the message stream', async () => {
    const limit = 8 * 1024 * 1024;
    const [one, two] = await cluster([1, 2], {
      maxMessageBytes: limit,
      snapshotChunkBytes: 1024 * 1024,
    });
    const inbox = new Inbox(two!.transport);
    const reports: string[] = [];
    one!.transport.onSnapshotReport((peer, outcome) => reports.push(`${peer}:${outcome}`));
    const data = Buffer.alloc(3 * limit);
    for (let i = 0; i < data.length; i += 4096) data[i] = (i / 4096) % 251;
    const snapshot = raftV1.Message.fromPartial({
      type: raftV1.MessageType.MESSAGE_TYPE_SNAPSHOT,
      from: 1,
      to: 2,
      term: 3,
      snapshot: {
        metadata: { index: 10, term: 3, confState: { voters: [1, 2, 3], learners: [] } },
        data,
      },
    });
    one!.transport.send([snapshot, append(1, 2, 11)]);
    await vi.waitFor(() => expect(reports).toEqual(['2:delivered']), { timeout: 30_000 });
    const received = inbox.from(1).find((m) => m.type === snapshot.type);
    expect(Buffer.compare(received!.snapshot!.data, data)).toBe(0);
    expect(received!.snapshot!.metadata).toEqual({
      index: 10,
      term: 3,
      confState: { voters: [1, 2, 3], learners: [] },
    });
    await vi.waitFor(() => expect(inbox.indexesFrom(1)).toContain(11));
    expect(one!.transport.status().peers[0]).toMatchObject({
      snapshotsDelivered: 1,
      snapshotsFailed: 0,
      dropped: 0,
    });
  });

  it('rejects inbound messages addressed to another node (a stale peer address)', async () => {
    const [one, two] = await cluster([1, 2]);
    const inbox = new Inbox(two!.transport);
    // Node 1 believes node 5 lives at node 2's address.
    one!.transport.updatePeer(5, two!.address);
    one!.transport.send([append(1, 5, 1), append(1, 2, 2)]);
    await expect
      .poll(() => one!.transport.status().peers.every((p) => p.sent === 1), {
        message: 'both to be acknowledged',
      })
      .toBe(true);
    expect(inbox.indexesFrom(1)).toEqual([2]);
    expect(two!.transport.status().inbound).toMatchObject({ received: 1, rejected: 1 });
  });

  it('answers a raw client that says no window batch by batch: acks count every message received', async () => {
    const [two] = await cluster([2]);
    const inbox = new Inbox(two!.transport);
    const client = new raftV1.RaftPeerServiceClient(two!.address, credentials.createInsecure());
    const acks: number[] = [];
    const stream = client.stream();
    stream.on('data', (response: raftV1.StreamResponse) => acks.push(response.received));
    const ended = new Promise((resolve) => stream.on('status', resolve));
    stream.write({ messages: [append(1, 2, 1), append(0, 2, 2), append(1, 7, 3)], window: 0 });
    stream.write({ messages: [append(3, 2, 4)], window: 0 });
    stream.end();
    await ended;
    client.close();
    expect(acks).toEqual([3, 4]);
    expect(inbox.indexesFrom(1)).toEqual([1]);
    expect(inbox.indexesFrom(3)).toEqual([4]);
    expect(two!.transport.status().inbound).toMatchObject({ received: 2, rejected: 2 });
  });

  it('acknowledges a sender that says its window once a quarter of it has arrived, or soon after', async () => {
    const [two] = await cluster([2]);
    const client = new raftV1.RaftPeerServiceClient(two!.address, credentials.createInsecure());
    cleanups.push(() => Promise.resolve(client.close()));
    const acks: number[] = [];
    const stream = client.stream();
    stream.on('data', (response: raftV1.StreamResponse) => acks.push(response.received));
    // Window 16: one ack per 4 messages at most; five single-message batches, then a lone one.
    for (let i = 1; i <= 5; i++) stream.write({ messages: [append(1, 2, i)], window: 16 });
    await expect.poll(() => acks.at(-1), { message: 'an ack of the first five' }).toBe(5);
    expect(acks.length).toBeLessThan(5);
    stream.write({ messages: [append(1, 2, 6)], window: 16 });
    // Below a quarter of the window: acknowledged by the timer, without more traffic.
    await expect.poll(() => acks.at(-1), { message: 'an ack of the sixth' }).toBe(6);
    stream.end();
  });

  it('ends the streams peers hold into it when it closes, so its server can shut down', async () => {
    const [one, two] = await cluster([1, 2]);
    const inbox = new Inbox(one!.transport);
    two!.transport.send([append(2, 1, 1)]);
    await expect
      .poll(() => inbox.from(2).length, { message: 'node 2 to stream to node 1' })
      .toBe(1);
    await one!.transport.close();
    // Node 2 sees its stream end, and node 1's still-running server refuses new ones.
    await expect
      .poll(() => !two!.transport.status().peers[0]!.connected, {
        message: 'node 2 to lose its stream',
      })
      .toBe(true);
    await sleep(300);
    expect(two!.transport.status().peers[0]).toMatchObject({ connected: false, reconnects: 1 });
    await stopServer(one!.server!);
    one!.server = undefined;
  });

  it('moves a peer to a new address', async () => {
    const [one, two] = await cluster([1, 2]);
    const inbox = new Inbox(two!.transport);
    const newPort = await freePort();
    const newServer = await startServer(two!.transport, newPort);
    cleanups.push(() => stopServer(newServer));
    // The old host is gone.
    two!.server!.forceShutdown();
    two!.server = undefined;
    one!.transport.updatePeer(2, `127.0.0.1:${newPort}`);
    one!.transport.send([append(1, 2, 1)]);
    await waitForAcks(one!.transport, 2, 1);
    expect(inbox.indexesFrom(1)).toEqual([1]);
    expect(one!.transport.status().peers[0]).toMatchObject({
      address: `127.0.0.1:${newPort}`,
      connected: true,
      sent: 1,
    });
  });

  it('closes cleanly: a process that used it exits on its own', async () => {
    const fixture = fileURLToPath(new URL('./transport-exit-fixture.ts', import.meta.url));
    const child = spawn(
      process.execPath,
      ['--conditions=@catmesh/source', '--import', 'tsx', fixture],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // A safety net only: a dangling handle shows up as a process that never exits.
    const safety = setTimeout(() => child.kill('SIGKILL'), 45_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(safety);
    expect(output).toContain('exchanged and closed');
    expect(code).toBe(0);
  });
});
