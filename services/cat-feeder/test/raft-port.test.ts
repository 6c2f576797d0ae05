// CATMESH_RAFT_PORT: replicas talk Raft (and forward writes to the leader) on a port of their
// own, so that a NetworkPolicy can allow it between replicas alone; clients keep the gRPC port.
import { Metadata, credentials, status, type ServiceError } from '@grpc/grpc-js';
import { raftV1, type catfeederV1 } from '@catmesh/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, unary } from './support/cluster.js';

describe('cat-feeder with Raft on its own port', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ ownRaftPort: true });
  });

  afterAll(async () => {
    await cluster?.shutdown();
  });

  it('elects a leader over the peer ports and forwards a follower write to the leader', async () => {
    const leader = await cluster.waitForLeader();
    const follower = cluster.replicas.find((r) => r !== leader)!;
    const put = await unary<catfeederV1.PutResponse>((cb) =>
      follower.client.put(
        { key: 'cat.state', value: Buffer.from('full'), requestId: undefined },
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        cb,
      ),
    );
    expect(put.kv?.key).toBe('cat.state');
    const status = await cluster.status(follower);
    // Members are listed with the addresses peers use.
    expect(status.members.map((m) => m.address).sort()).toEqual(
      cluster.replicas.map((r) => r.peerAddress).sort(),
    );
  });

  it('serves no Raft on the clients’ port', async () => {
    const client = new raftV1.RaftPeerServiceClient(
      cluster.replicas[0]!.address,
      credentials.createInsecure(),
    );
    try {
      const code = await new Promise<number>((resolve) => {
        const stream = client.stream(new Metadata(), { deadline: Date.now() + 5000 });
        stream.on('error', (error: ServiceError) => resolve(error.code));
        stream.on('data', () => {});
        stream.end();
      });
      expect(code).toBe(status.UNIMPLEMENTED);
    } finally {
      client.close();
    }
  });
});
