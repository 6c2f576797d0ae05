// A wiped replica catches up from a snapshot of over 200 MB, among real processes: the leader's
// state is streamed in chunks to the follower, which installs it whole (Raft §7). The memory
// bound of the streaming itself is checked in packages/raft (snapshot-streaming.test.ts); here
// the replicas' peak RSS is only reported: the write path and the taking of a snapshot hold
// more copies of the state than the transfer does.
import { readFile } from 'node:fs/promises';
import { Metadata } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Cluster, unary, type ReplicaProcess } from './support/cluster.js';

const MiB = 1024 * 1024;
const VALUES = 230; // 1 MiB each; the snapshot after 200 entries holds about 198 MiB (207 MB)

/** A value that names its key in every 4 KiB block, so a misplaced chunk cannot pass. */
function valueOf(i: number): Buffer {
  const value = Buffer.alloc(MiB, i % 251);
  for (let at = 0; at < MiB; at += 4096) value.writeUInt32LE(i, at);
  return value;
}

function put(r: ReplicaProcess, i: number) {
  return unary((cb) =>
    r.client.put(
      { key: `big/${i}`, value: valueOf(i), requestId: undefined },
      new Metadata(),
      { deadline: Date.now() + 60_000 },
      cb,
    ),
  );
}

function staleGet(r: ReplicaProcess, key: string) {
  return unary<catfeederV1.GetResponse>((cb) =>
    r.client.get(
      { key, consistency: catfeederV1.Consistency.CONSISTENCY_STALE },
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      cb,
    ),
  );
}

async function rssMb(r: ReplicaProcess): Promise<number> {
  const procStatus = await readFile(`/proc/${r.process!.pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(procStatus)![1]) / 1024;
}

describe('a wiped follower and a 200 MB state (3 processes)', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    // Taking a 200 MB snapshot stalls the leader's Raft loop for seconds (it is encoded and
    // written in one go): a longer election timeout keeps that from deposing it every time.
    cluster = await Cluster.start({
      size: 3,
      snapshotEntries: 200,
      env: { CATMESH_RAFT_ELECTION_TICKS: '100' },
    });
    await cluster.waitForLeader();
  });

  afterAll(async () => {
    await cluster?.shutdown();
  });

  it('installs the leader’s snapshot of over 200 MB and serves the same values', async () => {
    const first = await cluster.waitForLeader();
    const wiped = cluster.replicas.find((r) => r !== first)!;
    await cluster.stop(wiped);
    await cluster.wipe(wiped);
    const writer = cluster.replicas.find((r) => r !== wiped)!;
    for (let i = 0; i < VALUES; i += 4) {
      // Rewriting a value is harmless, so a write whose outcome is unknown is simply retried.
      await Promise.all(
        Array.from({ length: Math.min(4, VALUES - i) }, (_, k) =>
          vi.waitFor(() => put(writer, i + k), { timeout: 120_000, interval: 100 }),
        ),
      );
    }
    const leader = await cluster.waitForLeader(60_000);
    const leaderStatus = await cluster.status(leader);
    expect(leaderStatus.snapshotIndex).toBeGreaterThanOrEqual(200);
    cluster.launch(wiped);
    await vi.waitFor(
      async () => {
        const s = await cluster.status(wiped);
        expect(s.appliedIndex).toBeGreaterThanOrEqual(leaderStatus.appliedIndex);
      },
      { timeout: 180_000, interval: 200 },
    );
    const metrics = await fetch(`http://127.0.0.1:${wiped.metricsPort}/metrics`).then((r) =>
      r.text(),
    );
    expect(metrics).toMatch(/^catfeeder_snapshots_installed_total [1-9]/m);
    for (const i of [0, 1, 99, 198, VALUES - 1]) {
      const { kv } = await staleGet(wiped, `big/${i}`);
      expect(kv?.value.equals(valueOf(i)), `big/${i}`).toBe(true);
    }
    const peaks = await Promise.all(
      cluster.replicas.map(async (r) => `${r.id}: ${(await rssMb(r)).toFixed(0)}`),
    );
    console.log(`peak RSS (MB) of replicas (${wiped.id} was wiped): ${peaks.join(', ')}`);
  }, 300_000);
});
