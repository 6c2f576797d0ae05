// The app fault mechanism on three real cat-feeder processes: partitioning the leader from both
// followers through the replicas' own admin APIs makes the followers elect a new leader and the
// old one stop committing; the faults expire on their own and the group heals.
import { Metadata, credentials } from '@grpc/grpc-js';
import type { catfeederV1 } from '@catmesh/proto';
import { faultsV1 } from '@catmesh/proto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Cluster, unary, type ReplicaProcess } from './support/cluster.js';

let cluster: Cluster;
const admins = new Map<number, faultsV1.FaultAdminServiceClient>();

beforeAll(async () => {
  cluster = await Cluster.start();
  for (const r of cluster.replicas) {
    admins.set(
      r.id,
      new faultsV1.FaultAdminServiceClient(
        `127.0.0.1:${r.adminPort}`,
        credentials.createInsecure(),
      ),
    );
  }
});

afterAll(async () => {
  for (const admin of admins.values()) admin.close();
  await cluster?.shutdown();
});

function admin(r: ReplicaProcess): faultsV1.FaultAdminServiceClient {
  const client = admins.get(r.id);
  if (!client) throw new Error(`no admin client for replica ${r.id}`);
  return client;
}

function applyPartition(r: ReplicaProcess, from: readonly ReplicaProcess[], expiresAt: number) {
  return unary<faultsV1.ApplyFaultResponse>((cb) =>
    admin(r).applyFault(
      {
        fault: {
          id: 'isolate-leader',
          kind: { $case: 'partition', value: {} },
          expiresAtUnixMs: expiresAt,
          peers: from.map((peer) => ({ service: 'cat-feeder', instance: '', raftId: peer.id })),
          direction: faultsV1.Direction.DIRECTION_BOTH,
          transports: [],
          experiment: 'app-faults-test',
        },
      },
      new Metadata(),
      { deadline: Date.now() + 5_000 },
      cb,
    ),
  );
}

function listFaults(r: ReplicaProcess) {
  return unary<faultsV1.ListFaultsResponse>((cb) =>
    admin(r).listFaults({}, new Metadata(), { deadline: Date.now() + 5_000 }, cb),
  );
}

function put(r: ReplicaProcess, value: string, deadlineMs: number) {
  return unary<catfeederV1.PutResponse>((cb) =>
    r.client.put(
      { key: 'cat.state', value: Buffer.from(value), requestId: undefined },
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      cb,
    ),
  );
}

describe('app faults on a cat-feeder group', () => {
  it('a partitioned leader is replaced, stops committing, and the group heals on expiry', async () => {
    const old = await cluster.waitForLeader();
    const followers = cluster.replicas.filter((r) => r.id !== old.id);
    await put(old, 'hungry', 10_000);
    // Generous: the test must not race the expiry on a loaded machine.
    const expiresAt = Date.now() + 15_000;
    await applyPartition(old, followers, expiresAt);
    for (const f of followers) await applyPartition(f, [old], expiresAt);
    expect((await listFaults(old)).self).toMatchObject({ service: 'cat-feeder', raftId: old.id });

    const successor = await vi.waitFor(
      async () => {
        const statuses = await Promise.all(followers.map((f) => cluster.status(f)));
        const leaders = new Set(statuses.map((s) => s.leaderId));
        const [leaderId] = leaders;
        if (leaders.size !== 1 || !leaderId || leaderId === old.id) {
          throw new Error(`followers name ${[...leaders].join(',')}`);
        }
        return leaderId;
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(successor).not.toBe(old.id);
    await expect(put(old, 'full', 1_000)).rejects.toHaveProperty('code');
    const injected = await listFaults(old);
    expect(injected.faults[0]?.injections ?? 0).toBeGreaterThan(0);

    // No revert: the replicas end the faults themselves at the expiry.
    await vi.waitFor(
      async () => {
        for (const r of cluster.replicas) {
          if ((await listFaults(r)).faults.length > 0)
            throw new Error(`replica ${r.id} has faults`);
        }
      },
      { timeout: 30_000, interval: 100 },
    );
    const healed = await cluster.waitForLeader(30_000);
    await vi.waitFor(() => put(healed, 'full', 2_000), { timeout: 20_000, interval: 100 });
    await vi.waitFor(
      async () => {
        const statuses = await Promise.all(cluster.replicas.map((r) => cluster.status(r)));
        const commits = new Set(statuses.map((s) => s.commitIndex));
        if (commits.size !== 1) throw new Error(`commit indexes ${[...commits].join(',')}`);
      },
      { timeout: 20_000, interval: 100 },
    );
  });
});
