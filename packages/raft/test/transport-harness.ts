// Shared pieces of the transport tests: message builders, a recording receive handler, polling,
// and clusters of either transport wired to each other.
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { expect } from 'vitest';
import { raftV1 } from '@catmesh/proto';
import { freePort } from '@catmesh/testkit';
import {
  GrpcRaftTransport,
  InMemoryRaftNetwork,
  raftPeerServerOptions,
  type GrpcRaftTransportOptions,
  type InMemoryTransportOptions,
  type RaftTransport,
} from '../src/transport/index.js';

/** An append from `from` to `to`; `index` numbers the messages of a test. */
export function append(from: number, to: number, index: number, payload?: Buffer): raftV1.Message {
  return raftV1.Message.fromPartial({
    type: raftV1.MessageType.MESSAGE_TYPE_APPEND,
    from,
    to,
    term: 1,
    index,
    entries: payload
      ? [{ term: 1, index, type: raftV1.EntryType.ENTRY_TYPE_NORMAL, data: payload }]
      : [],
  });
}

/** Waits until `transport`'s peer `peer` has acknowledged `count` messages in all. */
export async function waitForAcks(
  transport: RaftTransport,
  peer: number,
  count: number,
): Promise<void> {
  await expect
    .poll(() => transport.status().peers.find((p) => p.id === peer)?.sent, {
      message: `${count} acknowledgements from node ${peer}`,
    })
    .toBe(count);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Records what one transport receives: messages per sender, and every handler call. */
export class Inbox {
  readonly byPeer = new Map<number, raftV1.Message[]>();
  readonly arrivedAt = new Map<raftV1.Message, number>();
  batches = 0;

  constructor(transport: RaftTransport) {
    transport.onReceive((messages) => this.record(messages));
  }

  record(messages: readonly raftV1.Message[]): void {
    this.batches += 1;
    for (const message of messages) {
      this.arrivedAt.set(message, Date.now());
      const list = this.byPeer.get(message.from);
      if (list) list.push(message);
      else this.byPeer.set(message.from, [message]);
    }
  }

  from(peer: number): raftV1.Message[] {
    return this.byPeer.get(peer) ?? [];
  }

  indexesFrom(peer: number): number[] {
    return this.from(peer).map((m) => m.index);
  }
}

export interface GrpcNode {
  readonly transport: GrpcRaftTransport;
  readonly port: number;
  readonly address: string;
  server: Server | undefined;
}

/** A gRPC server hosting `transport`'s service on 127.0.0.1:`port`, as a service process would. */
export async function startServer(transport: GrpcRaftTransport, port: number): Promise<Server> {
  const server = new Server(raftPeerServerOptions());
  server.addService(raftV1.RaftPeerServiceService, transport.service);
  await new Promise<void>((resolve, reject) =>
    server.bindAsync(`127.0.0.1:${port}`, ServerCredentials.createInsecure(), (error) =>
      error ? reject(error) : resolve(),
    ),
  );
  return server;
}

export function stopServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.tryShutdown(() => resolve()));
}

/** Fast reconnection so tests of a peer coming back do not sit out multi-second backoffs. */
export const TEST_RECONNECT = { initialDelayMs: 20, maxDelayMs: 200 };

/** Nodes 1..n with servers on free ports, each knowing every other as a peer. */
export async function grpcCluster(
  ids: readonly number[],
  options: Partial<GrpcRaftTransportOptions> = {},
): Promise<GrpcNode[]> {
  const nodes: GrpcNode[] = [];
  for (const id of ids) {
    const port = await freePort();
    const transport = new GrpcRaftTransport({ reconnect: TEST_RECONNECT, ...options, localId: id });
    nodes.push({
      transport,
      port,
      address: `127.0.0.1:${port}`,
      server: await startServer(transport, port),
    });
  }
  for (const node of nodes) {
    for (const peer of nodes) {
      if (peer !== node) node.transport.updatePeer(peer.transport.localId, peer.address);
    }
  }
  return nodes;
}

export async function closeGrpcCluster(nodes: readonly GrpcNode[]): Promise<void> {
  await Promise.all(nodes.map((node) => node.transport.close()));
  const servers = nodes.flatMap((node) => (node.server ? [node.server] : []));
  await Promise.all(servers.map((server) => stopServer(server)));
}

/** The contract tests run against both implementations through this. */
export interface TestCluster {
  readonly transports: readonly RaftTransport[];
  close(): Promise<void>;
}

export type MakeCluster = (ids: readonly number[]) => Promise<TestCluster>;

export const makeGrpcCluster: MakeCluster = async (ids) => {
  const nodes = await grpcCluster(ids);
  return { transports: nodes.map((n) => n.transport), close: () => closeGrpcCluster(nodes) };
};

export const makeInMemoryCluster: MakeCluster = (ids) => {
  const network = new InMemoryRaftNetwork();
  const transports = ids.map((id) => network.connect({ localId: id }));
  wireInMemory(transports);
  return Promise.resolve({
    transports,
    close: async () => {
      await Promise.all(transports.map((t) => t.close()));
    },
  });
};

/** Makes every in-memory transport a peer of every other. */
export function wireInMemory(transports: readonly RaftTransport[]): void {
  for (const transport of transports) {
    for (const peer of transports) {
      if (peer !== transport) transport.updatePeer(peer.localId, `mem://${peer.localId}`);
    }
  }
}

export function connectInMemory(
  network: InMemoryRaftNetwork,
  ids: readonly number[],
  options: Partial<InMemoryTransportOptions> = {},
): RaftTransport[] {
  const transports = ids.map((id) => network.connect({ ...options, localId: id }));
  wireInMemory(transports);
  return transports;
}
