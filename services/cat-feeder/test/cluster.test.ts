// Three real cat-feeder processes on loopback: any replica takes writes, a killed leader is
// replaced, restarts keep the data, a wiped replica comes back through a snapshot.
import { readFile } from 'node:fs/promises';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { catfeederV1 } from '@catmesh/proto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Cluster, unary, type ReplicaProcess } from './support/cluster.js';

const { Consistency } = catfeederV1;
const text = (value: string) => Buffer.from(value);

function put(r: ReplicaProcess, key: string, value: string, deadlineMs = 10_000) {
  return unary<catfeederV1.PutResponse>((cb) =>
    r.client.put(
      { key, value: text(value), requestId: undefined },
      new Metadata(),
      { deadline: Date.now() + deadlineMs },
      cb,
    ),
  );
}

function get(r: ReplicaProcess, key: string, consistency = Consistency.CONSISTENCY_LINEARIZABLE) {
  return unary<catfeederV1.GetResponse>((cb) =>
    r.client.get({ key, consistency }, new Metadata(), { deadline: Date.now() + 10_000 }, cb),
  );
}

function cas(r: ReplicaProcess, request: Partial<catfeederV1.CompareAndSwapRequest>) {
  return unary<catfeederV1.CompareAndSwapResponse>((cb) =>
    r.client.compareAndSwap(
      {
        key: 'k',
        expected: undefined,
        newValue: Buffer.alloc(0),
        requestId: undefined,
        ...request,
      },
      new Metadata(),
      { deadline: Date.now() + 10_000 },
      cb,
    ),
  );
}

/** Retries a write until the cluster can take it (e.g. right after a leader was killed). */
function putEventually(r: ReplicaProcess, key: string, value: string, cluster: Cluster) {
  return vi.waitFor(
    () =>
      put(r, key, value, 2000).catch((error: Error) => {
        throw new Error(`${error.message}\n${cluster.describe()}`);
      }),
    { timeout: 30_000 },
  );
}

describe('cat-feeder cluster (3 processes)', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.start({ size: 3, snapshotEntries: 100 });
    await cluster.waitForLeader();
  });

  afterAll(async () => {
    await cluster?.shutdown();
  });

  it('takes writes through any replica and reads them linearizably from any replica', async () => {
    for (const r of cluster.replicas) {
      const response = await put(r, `written-via-${r.id}`, `value-${r.id}`);
      expect(response.kv?.key).toBe(`written-via-${r.id}`);
    }
    for (const reader of cluster.replicas) {
      for (const writer of cluster.replicas) {
        const { kv } = await get(reader, `written-via-${writer.id}`);
        expect(kv?.value.toString()).toBe(`value-${writer.id}`);
      }
    }
  });

  it('serves lease and stale reads, and reports a missing key as absent', async () => {
    await put(cluster.replicas[0]!, 'cat.state', 'hungry');
    for (const r of cluster.replicas) {
      expect((await get(r, 'cat.state', Consistency.CONSISTENCY_LEASE)).kv?.value.toString()).toBe(
        'hungry',
      );
    }
    const stale = await vi.waitFor(
      async () => {
        const response = await get(
          cluster.replicas[2]!,
          'cat.state',
          Consistency.CONSISTENCY_STALE,
        );
        expect(response.kv?.value.toString()).toBe('hungry');
        return response;
      },
      { timeout: 30_000 },
    );
    expect(stale.header?.memberId).toBe(3);
    expect((await get(cluster.replicas[1]!, 'no-such-key')).kv).toBeUndefined();
  });

  it('compare-and-swap: on value, on revision, on absence; a failed CAS changes nothing', async () => {
    const r = cluster.replicas[1]!;
    const created = await cas(r, {
      key: 'bowl',
      expected: { $case: 'expectedAbsent', value: true },
      newValue: text('empty'),
    });
    expect(created.succeeded).toBe(true);
    const stale = await cas(r, {
      key: 'bowl',
      expected: { $case: 'expectedValue', value: text('full') },
      newValue: text('spilled'),
    });
    expect(stale).toMatchObject({ succeeded: false, kv: { value: text('empty') } });
    const swapped = await cas(r, {
      key: 'bowl',
      expected: { $case: 'expectedModRevision', value: created.kv!.modRevision },
      newValue: text('full'),
    });
    expect(swapped.succeeded).toBe(true);
    const again = await cas(r, {
      key: 'bowl',
      expected: { $case: 'expectedModRevision', value: created.kv!.modRevision },
      newValue: text('again'),
    });
    expect(again.succeeded).toBe(false);
    expect((await get(cluster.replicas[2]!, 'bowl')).kv?.value.toString()).toBe('full');
  });

  it('Watch delivers every change in revision order', async () => {
    const watcher = cluster.replicas[2]!;
    const start = (await get(watcher, 'anything')).header!.revision + 1;
    const seen: catfeederV1.Event[] = [];
    const stream = watcher.client.watch({ prefix: 'watched/', startRevision: start });
    stream.on('data', (response: catfeederV1.WatchResponse) => seen.push(...response.events));
    stream.on('error', () => {});
    const writes = 60;
    // Concurrent writers through different replicas, interleaved with unwatched keys.
    await Promise.all(
      cluster.replicas.map(async (r) => {
        for (let i = 0; i < writes / 3; i++) {
          await put(r, `watched/${r.id}/${i}`, String(i));
          await put(r, `other/${r.id}`, String(i));
        }
      }),
    );
    await put(cluster.replicas[0]!, 'watched/deleted', 'x');
    await unary((cb) =>
      cluster.replicas[0]!.client.delete(
        { key: 'watched/deleted', requestId: undefined },
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        cb,
      ),
    );
    await expect.poll(() => seen.length).toBeGreaterThanOrEqual(writes + 2);
    stream.cancel();
    const revisions = seen.map((e) => e.kv!.modRevision);
    expect(revisions).toEqual([...revisions].sort((a, b) => a - b));
    expect(new Set(revisions).size).toBe(revisions.length);
    expect(seen.filter((e) => e.type === catfeederV1.EventType.EVENT_TYPE_PUT)).toHaveLength(
      writes + 1,
    );
    expect(seen.at(-1)).toMatchObject({
      type: catfeederV1.EventType.EVENT_TYPE_DELETE,
      kv: { key: 'watched/deleted' },
    });
  });

  it('rejects bad requests with INVALID_ARGUMENT naming the field', async () => {
    const r = cluster.replicas[0]!;
    const failure = (promise: Promise<unknown>) =>
      promise.then(
        () => {
          throw new Error('expected the call to fail');
        },
        (error: ServiceError) => error,
      );
    const emptyKey = await failure(put(r, '', 'v'));
    expect(emptyKey.code).toBe(status.INVALID_ARGUMENT);
    expect(emptyKey.details).toMatch(/^key: /);
    const noExpectation = await failure(cas(r, { key: 'k', newValue: text('v') }));
    expect(noExpectation.code).toBe(status.INVALID_ARGUMENT);
    expect(noExpectation.details).toMatch(/^expected: /);
    const badRequestId = await failure(
      unary((cb) =>
        r.client.put({ key: 'k', value: text('v'), requestId: { clientId: '', sequence: 1 } }, cb),
      ),
    );
    expect(badRequestId.details).toMatch(/^request_id\.client_id: /);
    const badConsistency = await failure(get(r, 'k', 42 as catfeederV1.Consistency));
    expect(badConsistency.details).toMatch(/^consistency: /);
    const badMember = await failure(
      unary((cb) => r.admin.addMember({ id: 9, address: 'nowhere', learner: true }, cb)),
    );
    expect(badMember).toMatchObject({ code: status.INVALID_ARGUMENT });
    expect(badMember.details).toMatch(/^address: /);
  });

  it('a retried write with the same request id applies once', async () => {
    const r = cluster.replicas[2]!;
    const request = {
      key: 'dedupe',
      value: text('once'),
      requestId: { clientId: 'test', sequence: 1 },
    };
    const first = await unary<catfeederV1.PutResponse>((cb) => r.client.put(request, cb));
    const retry = await unary<catfeederV1.PutResponse>((cb) => r.client.put(request, cb));
    expect(retry.kv).toEqual(first.kv);
    expect((await get(r, 'dedupe')).kv?.version).toBe(1);
  });

  it('kill -9 of the leader: a new leader is elected and writes resume', async () => {
    const leader = await cluster.waitForLeader();
    const before = (await cluster.status(leader)).term;
    await cluster.kill(leader);
    const survivor = cluster.replicas.find((r) => r !== leader)!;
    await putEventually(survivor, 'after-failover', 'yes', cluster);
    const newLeader = await cluster.waitForLeader();
    expect(newLeader.id).not.toBe(leader.id);
    expect((await cluster.status(newLeader)).term).toBeGreaterThan(before);
    cluster.launch(leader);
    await expect
      .poll(async () => (await get(leader, 'after-failover')).kv?.value.toString())
      .toBe('yes');
  });

  it('restarting every replica keeps all acknowledged data', async () => {
    const acknowledged = new Map<string, string>();
    for (let i = 0; i < 30; i++) {
      await put(cluster.replicas[i % 3]!, `durable/${i}`, `v${i}`);
      acknowledged.set(`durable/${i}`, `v${i}`);
    }
    await Promise.all(cluster.replicas.map((r) => cluster.kill(r)));
    for (const r of cluster.replicas) cluster.launch(r);
    await cluster.waitForLeader();
    for (const [key, value] of acknowledged) {
      const { kv } = await get(cluster.replicas[Number(key.split('/')[1]) % 3]!, key);
      expect(kv?.value.toString()).toBe(value);
    }
  });

  it('a replica whose data directory was wiped catches up through a snapshot', async () => {
    const leader = await cluster.waitForLeader();
    const wiped = cluster.replicas.find((r) => r !== leader)!;
    await cluster.stop(wiped);
    await cluster.wipe(wiped);
    // More than snapshotEntries (100) writes while it is gone, so the log it needs is compacted.
    for (let i = 0; i < 150; i++) await put(leader, `while-away/${i}`, String(i));
    const leaderStatus = await cluster.status(leader);
    expect(leaderStatus.snapshotIndex).toBeGreaterThan(0);
    cluster.launch(wiped);
    await expect
      .poll(async () => (await cluster.status(wiped)).appliedIndex)
      .toBeGreaterThanOrEqual(leaderStatus.appliedIndex);
    const { kv } = await get(wiped, 'while-away/149', Consistency.CONSISTENCY_STALE);
    expect(kv?.value.toString()).toBe('149');
    const metrics = await fetch(`http://127.0.0.1:${wiped.metricsPort}/metrics`).then((r) =>
      r.text(),
    );
    expect(metrics).toMatch(/^catfeeder_snapshots_installed_total [1-9]/m);
  });

  it('an idle replica stays under 120 MB resident memory', async () => {
    // Idle means every replica has applied all the leader has committed (no catch-up, no
    // snapshot in flight): waited for, not guessed with a sleep.
    const leader = await cluster.waitForLeader();
    const { commitIndex } = await cluster.status(leader);
    for (const r of cluster.replicas) {
      await expect
        .poll(async () => (await cluster.status(r)).appliedIndex, {
          message: `replica ${r.id} to apply index ${commitIndex}`,
        })
        .toBeGreaterThanOrEqual(commitIndex);
    }
    for (const r of cluster.replicas) {
      const procStatus = await readFile(`/proc/${r.process!.pid}/status`, 'utf8');
      const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(procStatus)![1]);
      console.log(`replica ${r.id}: idle RSS ${(rssKb / 1024).toFixed(1)} MB`);
      expect(rssKb).toBeLessThan(120 * 1024);
    }
  });
});
