// A replica refuses to run in the wrong Raft group: on another group's data, or pointed at
// another group's peers, it stops and names both cluster ids; a data dir from before cluster
// ids adopts the founders' id on its first start.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { credentials, Metadata } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { freePort } from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Cluster, unary, type ReplicaProcess } from './support/cluster.js';

const clusterIdOf = async (r: ReplicaProcess): Promise<string> =>
  (await readFile(join(r.dataDir, 'raft', 'cluster-id'), 'utf8')).trim();

function exitOf(r: ReplicaProcess): Promise<number | null> {
  const child = r.process!;
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function put(r: ReplicaProcess, key: string) {
  return unary((cb) =>
    r.client.put(
      { key, value: Buffer.from('v'), requestId: undefined },
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      cb,
    ),
  );
}

describe('cat-feeder cluster identity', () => {
  let a: Cluster;
  let b: Cluster;

  // One group after the other: six replicas electing at once on two loaded cores can take
  // longer than one election timeout budget, and the whole file would be skipped for it.
  beforeAll(async () => {
    a = await Cluster.start({ size: 3 });
    await a.waitForLeader(60_000);
    b = await Cluster.start({ size: 3 });
    await b.waitForLeader(60_000);
  }, 150_000);

  afterAll(async () => {
    await Promise.all([a?.shutdown(), b?.shutdown()]);
  });

  it('records one cluster id per group, the same on every founder', async () => {
    const idsA = await Promise.all(a.replicas.map(clusterIdOf));
    const idsB = await Promise.all(b.replicas.map(clusterIdOf));
    expect(new Set(idsA).size).toBe(1);
    expect(new Set(idsB).size).toBe(1);
    expect(idsA[0]).toMatch(/^[0-9a-f]{16}$/);
    expect(idsA[0]).not.toBe(idsB[0]);
  });

  it('adopts the founders’ id in a data dir written before cluster ids', async () => {
    const r = a.replica(2);
    const id = await clusterIdOf(r);
    await a.stop(r);
    await rm(join(r.dataDir, 'raft', 'cluster-id'));
    a.launch(r);
    await vi.waitFor(async () => expect(await clusterIdOf(r)).toBe(id), { timeout: 30_000 });
    await a.waitForLeader();
    await put(r, 'after-migration');
  });

  it('lets a joiner adopt and record the id of the group that adds it', async () => {
    const leader = await a.waitForLeader();
    const address = `127.0.0.1:${await freePort()}`;
    const joiner: ReplicaProcess = {
      id: 4,
      address,
      peerAddress: address,
      metricsPort: await freePort(),
      adminPort: await freePort(),
      dataDir: join(a.replica(1).dataDir, '..', 'joiner'),
      client: new catfeederV1.CatFeederServiceClient(address, credentials.createInsecure()),
      admin: new catfeederV1.CatFeederAdminServiceClient(address, credentials.createInsecure()),
      process: undefined,
      output: [],
    };
    try {
      await unary((cb) => leader.admin.addMember({ id: 4, address, learner: true }, cb));
      a.launch(joiner, { CATMESH_JOIN: 'true' });
      const idA = await clusterIdOf(a.replica(1));
      await vi.waitFor(async () => expect(await clusterIdOf(joiner)).toBe(idA), {
        timeout: 30_000,
      });
      await put(leader, 'seen-by-the-joiner');
      await vi.waitFor(
        async () => {
          const response = await unary<catfeederV1.GetResponse>((cb) =>
            joiner.client.get(
              { key: 'seen-by-the-joiner', consistency: catfeederV1.Consistency.CONSISTENCY_STALE },
              cb,
            ),
          );
          expect(response.kv?.value.toString()).toBe('v');
        },
        { timeout: 30_000 },
      );
    } finally {
      joiner.process?.kill('SIGKILL');
      joiner.client.close();
      joiner.admin.close();
      await unary((cb) => leader.admin.removeMember({ id: 4 }, cb)).catch(() => undefined);
    }
  }, 60_000);

  it('refuses to run on another group’s data, naming both ids', async () => {
    const [idA, idB] = [await clusterIdOf(a.replica(1)), await clusterIdOf(b.replica(1))];
    const fromA = a.replica(1);
    await a.stop(fromA);
    const inB = b.replica(1);
    await b.stop(inB);
    // Replica 1 of group B, started on the data dir of group A's replica 1.
    const misplaced: ReplicaProcess = { ...inB, dataDir: fromA.dataDir, output: [] };
    b.launch(misplaced);
    expect(await exitOf(misplaced)).toBe(1);
    expect(misplaced.output.join('\n')).toContain(
      `the data dir belongs to Raft cluster ${idA}, but CATMESH_PEERS founds cluster ${idB}`,
    );
    a.launch(fromA);
    b.launch(inB);
    await Promise.all([a.waitForLeader(), b.waitForLeader()]);
  }, 60_000);

  it('stops a replica pointed at another group’s peers; the group refuses it and goes on', async () => {
    const leader = await a.waitForLeader();
    const address = `127.0.0.1:${await freePort()}`;
    const stray: ReplicaProcess = {
      ...a.replica(3),
      address,
      peerAddress: address,
      metricsPort: await freePort(),
      adminPort: await freePort(),
      dataDir: join(a.replica(3).dataDir, '..', 'stray'),
      output: [],
    };
    // It believes it founds a group with replicas 1 and 2 of group A.
    a.launch(stray, {
      CATMESH_PEERS: `1=${a.replica(1).address},2=${a.replica(2).address},3=${address}`,
      CATMESH_GRPC_PORT: address.split(':')[1]!,
      CATMESH_INSTANCE_ID: 'cat-feeder-stray',
    });
    expect(await exitOf(stray)).toBe(1);
    const idA = await clusterIdOf(a.replica(1));
    expect(stray.output.join('\n')).toMatch(
      new RegExp(
        `belongs to cluster ${idA}, this replica to cluster [0-9a-f]{16}.*refusing to run in another group`,
      ),
    );
    await vi.waitFor(
      () =>
        expect(a.replicas.some((r) => r.output.join('\n').includes('refused a Raft call'))).toBe(
          true,
        ),
      { timeout: 10_000 },
    );
    await put(leader, 'after-the-stray');
  }, 60_000);
});
