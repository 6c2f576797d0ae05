// The cluster id on every Raft call over gRPC: another group's calls are refused, both sides say
// so with both ids, and a joiner adopts the id of the group that calls it.
import { raftV1 } from '@catmesh/proto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClusterIdMismatchError } from '../src/transport/index.js';
import {
  append,
  closeGrpcCluster,
  grpcCluster,
  Inbox,
  type GrpcNode,
} from './transport-harness.js';

describe('cluster id handshake', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });
  async function pair(
    ids: readonly [string | undefined, string | undefined],
    seen: ClusterIdMismatchError[] = [],
    adopted: string[] = [],
  ): Promise<GrpcNode[]> {
    const nodes = [
      ...(await grpcCluster([1], { clusterId: ids[0], onClusterIdMismatch: (e) => seen.push(e) })),
      ...(await grpcCluster([2], {
        clusterId: ids[1],
        onClusterIdMismatch: (e) => seen.push(e),
        onClusterIdAdopted: (id) => adopted.push(id),
      })),
    ];
    nodes[0]!.transport.updatePeer(2, nodes[1]!.address);
    nodes[1]!.transport.updatePeer(1, nodes[0]!.address);
    cleanups.push(() => closeGrpcCluster(nodes));
    return nodes;
  }

  it('refuses calls from another cluster, and both sides name both ids', async () => {
    const seen: ClusterIdMismatchError[] = [];
    const [one, two] = await pair(['cluster-a', 'cluster-b'], seen);
    const inbox = new Inbox(two!.transport);
    one!.transport.send([append(1, 2, 1)]);
    await vi.waitFor(() => {
      expect(seen.map((e) => e.direction).sort()).toEqual(
        expect.arrayContaining(['inbound', 'outbound']),
      );
    });
    const outbound = seen.find((e) => e.direction === 'outbound')!;
    expect(outbound).toMatchObject({ localClusterId: 'cluster-a', remoteClusterId: 'cluster-b' });
    expect(outbound.message).toMatch(
      /belongs to cluster cluster-b, this replica to cluster cluster-a/,
    );
    const inbound = seen.find((e) => e.direction === 'inbound')!;
    expect(inbound).toMatchObject({ localClusterId: 'cluster-b', remoteClusterId: 'cluster-a' });
    expect(two!.transport.status().inbound.refusedCalls).toBeGreaterThan(0);
    expect(inbox.from(1)).toEqual([]);
  });

  it('refuses a snapshot from another cluster and reports it failed to the sender', async () => {
    const [one, two] = await pair(['cluster-a', 'cluster-b']);
    const inbox = new Inbox(two!.transport);
    const reports: string[] = [];
    one!.transport.onSnapshotReport((peer, outcome) => reports.push(`${peer}:${outcome}`));
    one!.transport.send([
      raftV1.Message.fromPartial({
        type: raftV1.MessageType.MESSAGE_TYPE_SNAPSHOT,
        from: 1,
        to: 2,
        term: 2,
        snapshot: {
          metadata: { index: 5, term: 2, confState: { voters: [1, 2], learners: [] } },
          data: Buffer.from('state'),
        },
      }),
    ]);
    await vi.waitFor(() => expect(reports).toEqual(['2:failed']));
    expect(inbox.from(1)).toEqual([]);
  });

  it('lets a joiner without an id adopt the id of the first peer that calls it', async () => {
    const adopted: string[] = [];
    const [one, two] = await pair(['cluster-a', undefined], [], adopted);
    const inbox = new Inbox(two!.transport);
    one!.transport.send([append(1, 2, 1)]);
    await vi.waitFor(() => expect(inbox.indexesFrom(1)).toEqual([1]));
    expect(adopted).toEqual(['cluster-a']);
    expect(two!.transport.clusterId).toBe('cluster-a');
  });

  it('refuses a cluster id that cannot travel in a header, naming the option', async () => {
    await expect(grpcCluster([1], { clusterId: 'has space' })).rejects.toThrow(
      /clusterId must be 1 to 64 of \[A-Za-z0-9._-\]/,
    );
  });
});
