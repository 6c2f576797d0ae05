// Raft §7 InstallSnapshot end to end: a leader whose log starts after a 200 MB snapshot, a
// follower with an empty data dir, the real core on both sides and the real gRPC transport
// between them. A TCP proxy cuts the connection while the snapshot streams; the failed send is
// reported to the core, which sends the snapshot again, and the follower installs exactly one,
// whole and intact.
import { createServer, connect, type Server as NetServer, type Socket } from 'node:net';
import type { Server } from '@grpc/grpc-js';
import { freePort } from '@catmesh/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { RaftNode, type Snapshot } from '../src/core/index.js';
import { GrpcRaftTransport, messageFromProto, messageToProto } from '../src/transport/index.js';
import { startServer, stopServer, TEST_RECONNECT } from './transport-harness.js';

const MiB = 1024 * 1024;

/** Forwards TCP to `target`; `cutAfter(bytes)` breaks the next connection once that much went upstream. */
class CuttingProxy {
  readonly sockets = new Set<Socket>();
  private cutAt: number | undefined;
  cuts = 0;

  private constructor(
    readonly server: NetServer,
    readonly port: number,
  ) {}

  static async start(target: number): Promise<CuttingProxy> {
    const port = await freePort();
    const server = createServer();
    const proxy = new CuttingProxy(server, port);
    server.on('connection', (client) => proxy.pipe(client, target));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return proxy;
  }

  cutAfter(bytes: number): void {
    this.cutAt = bytes;
  }

  close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket, target: number): void {
    const upstream = connect(target, '127.0.0.1');
    this.sockets.add(client).add(upstream);
    let forwarded = 0;
    client.on('data', (chunk: Buffer) => {
      forwarded += chunk.length;
      if (this.cutAt !== undefined && forwarded >= this.cutAt) {
        this.cutAt = undefined;
        this.cuts += 1;
        client.destroy();
        upstream.destroy();
        return;
      }
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = (): void => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  }
}

/** Runs one RaftNode over a transport the way a replica does, persisting to memory. */
class Driver {
  readonly installed: Snapshot[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly node: RaftNode,
    readonly transport: GrpcRaftTransport,
  ) {
    transport.onReceive((messages) => {
      for (const m of messages) node.step(messageFromProto(m));
      this.run();
    });
    transport.onSnapshotReport((peer, outcome) => {
      node.reportSnapshot(peer, outcome);
      this.run();
    });
    this.timer = setInterval(() => {
      node.tick();
      this.run();
    }, 20);
  }

  run(): void {
    while (this.node.hasReady()) {
      const ready = this.node.ready();
      if (ready.snapshot) this.installed.push(ready.snapshot);
      this.transport.send(ready.messages.map(messageToProto));
      this.node.advance(ready);
    }
  }

  stop(): Promise<void> {
    clearInterval(this.timer);
    return this.transport.close();
  }
}

/** `bytes` of data in which every 4 KiB block names its own offset: a misplaced chunk shows. */
function stateOf(bytes: number): Buffer {
  const data = Buffer.alloc(bytes);
  for (let at = 0; at + 4 <= bytes; at += 4096) data.writeUInt32LE(at, at);
  return data;
}

describe('snapshot streaming over gRPC (§7)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('brings a wiped follower up from a 200 MB snapshot, retrying after the stream is cut midway', async () => {
    const size = 200 * MiB;
    const data = stateOf(size);
    const snapshotIndex = 100;
    const leaderNode = new RaftNode({
      id: 1,
      electionTick: 10,
      heartbeatTick: 1,
      random: () => 0.5,
      storage: {
        hardState: { term: 1, vote: 1, commit: snapshotIndex },
        snapshot: {
          metadata: { index: snapshotIndex, term: 1, confState: { voters: [1], learners: [2] } },
          data,
        },
        entries: [],
      },
    });
    // The follower's data dir was wiped: no log, no membership, no bootstrap.
    const followerNode = new RaftNode({
      id: 2,
      electionTick: 10,
      heartbeatTick: 1,
      random: () => 0.5,
    });

    const [leaderPort, followerPort] = [await freePort(), await freePort()];
    const servers: Server[] = [];
    const transportOf = async (id: number, port: number): Promise<GrpcRaftTransport> => {
      const transport = new GrpcRaftTransport({ localId: id, reconnect: TEST_RECONNECT });
      servers.push(await startServer(transport, port));
      return transport;
    };
    const leader = new Driver(leaderNode, await transportOf(1, leaderPort));
    const follower = new Driver(followerNode, await transportOf(2, followerPort));
    const proxy = await CuttingProxy.start(followerPort);
    cleanups.push(async () => {
      await Promise.all([leader.stop(), follower.stop()]);
      await proxy.close();
      await Promise.all(servers.map((s) => stopServer(s)));
    });
    leader.transport.updatePeer(2, `127.0.0.1:${proxy.port}`);
    follower.transport.updatePeer(1, `127.0.0.1:${leaderPort}`);
    proxy.cutAfter(size / 2);

    const baseline = process.memoryUsage().arrayBuffers;
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }, 20);
    cleanups.push(() => Promise.resolve(clearInterval(sampler)));

    await vi.waitFor(
      () => {
        const progress = leaderNode.status().progress.find((p) => p.id === 2);
        expect(progress).toMatchObject({ state: 'replicate' });
        expect(progress!.match).toBeGreaterThan(snapshotIndex);
      },
      { timeout: 120_000, interval: 50 },
    );

    expect(proxy.cuts).toBe(1);
    const sent = leader.transport.status().peers.find((p) => p.id === 2)!;
    expect(sent.snapshotsFailed).toBeGreaterThanOrEqual(1);
    expect(sent.snapshotsDelivered).toBeGreaterThanOrEqual(1);
    // The cut attempt was dropped on arrival, never handed to Raft.
    expect(follower.transport.status().inbound.brokenSnapshots).toBeGreaterThanOrEqual(1);
    expect(follower.installed).toHaveLength(1);
    const installed = follower.installed[0]!;
    expect(installed.metadata).toEqual({
      index: snapshotIndex,
      term: 1,
      confState: { voters: [1], learners: [2] },
    });
    expect(
      Buffer.from(
        installed.data.buffer,
        installed.data.byteOffset,
        installed.data.byteLength,
      ).equals(data),
    ).toBe(true);
    expect(followerNode.status()).toMatchObject({
      firstIndex: snapshotIndex + 1,
      commit: snapshotIndex + 1,
    });

    // Chunks are streamed, not gathered: beyond the leader's copy, the process held the
    // follower's copy and at most one cut attempt's buffer not yet collected.
    expect(peak - baseline).toBeLessThan(2 * size + 64 * MiB);

    // And the follower now replicates like any other.
    const proposed = leaderNode.propose(new TextEncoder().encode('after the snapshot'));
    expect(proposed.ok).toBe(true);
    leader.run();
    await vi.waitFor(
      () => expect(followerNode.commitIndex).toBeGreaterThanOrEqual(snapshotIndex + 2),
      {
        timeout: 30_000,
      },
    );
  }, 180_000);
});
