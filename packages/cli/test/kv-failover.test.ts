import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { freePort } from '@catmesh/testkit';
import { InMemoryStore, startReplica, type Replica } from './support/in-memory-cat-feeder.js';
import { catmesh, jsonLines, startCatmesh } from './support/run-catmesh.js';

let store: InMemoryStore;
let a: Replica;
let b: Replica;
/** An address where nothing listens: connections are refused. */
let dead: string;

beforeAll(async () => {
  store = new InMemoryStore();
  a = await startReplica(store, 1);
  b = await startReplica(store, 2);
  dead = `127.0.0.1:${await freePort()}`;
});
afterAll(() => {
  a.stop();
  b.stop();
});
beforeEach(() => {
  for (const replica of [a, b]) {
    replica.mode = 'serving';
    replica.calls.length = 0;
  }
});

const requestIdsOf = (replica: Replica, method: string) =>
  replica.calls
    .filter((call) => call.method === method)
    .map((call) => (call.request as { requestId: unknown }).requestId);

describe('failover across endpoints', () => {
  it('moves past an unreachable endpoint and one answering UNAVAILABLE, in order', async () => {
    a.mode = 'unavailable';
    const run = await catmesh([
      'kv',
      'put',
      'cat.state',
      'full',
      '--json',
      '--endpoints',
      `${dead},${a.address},${b.address}`,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([
      expect.objectContaining({ value: 'full', served_by: 2 }),
    ]);
    // The same write, with the same request id, went to a and then b.
    expect(requestIdsOf(a, 'put')).toHaveLength(1);
    expect(requestIdsOf(b, 'put')).toEqual(requestIdsOf(a, 'put'));
  });

  it('resends a write whose answer was lost with the same request id: applied once', async () => {
    a.mode = 'answer-lost';
    const changes = store.history.length;
    const run = await catmesh([
      'kv',
      'put',
      'cat.state',
      'hungry',
      '--endpoints',
      `${a.address},${b.address}`,
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(store.history.length).toBe(changes + 1);
    expect(run.stdout).toBe(`${store.history.at(-1)!.kv.modRevision}\n`);
    expect(requestIdsOf(b, 'put')).toEqual(requestIdsOf(a, 'put'));
  });

  it('gives a silent endpoint a share of the timeout, then moves on with the same write', async () => {
    a.mode = 'silent';
    const run = await catmesh([
      'kv',
      'put',
      'cat.state',
      'full',
      '--json',
      '--timeout',
      '4s',
      '--endpoints',
      `${a.address},${b.address}`,
    ]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(jsonLines(run.stdout)).toEqual([expect.objectContaining({ served_by: 2 })]);
    expect(requestIdsOf(b, 'put')).toEqual(requestIdsOf(a, 'put'));
  });

  it('a watch moves past a silent endpoint too', async () => {
    a.mode = 'silent';
    const from = store.put('silent.key', Buffer.from('x')).modRevision;
    const run = await catmesh([
      'kv',
      'watch',
      'silent.',
      '--from-revision',
      String(from),
      '--count',
      '1',
      '--timeout',
      '4s',
      '--endpoints',
      `${a.address},${b.address}`,
    ]);
    expect(run).toMatchObject({
      code: 0,
      stdout: `PUT silent.key = x (rev ${from})\n`,
      stderr: '',
    });
  });

  it('keeps trying until the timeout: a replica that recovers meanwhile serves the request', async () => {
    a.mode = 'unavailable';
    const running = startCatmesh([
      'kv',
      'get',
      'cat.state',
      '--timeout',
      '60s',
      '--endpoints',
      a.address,
    ]);
    await expect.poll(() => a.calls.length).toBeGreaterThanOrEqual(1);
    a.mode = 'serving';
    const run = await running.result;
    expect(run).toMatchObject({
      code: 0,
      stdout: `${store.keys.get('cat.state')!.value.toString()}\n`,
    });
    expect(a.calls.length).toBeGreaterThanOrEqual(2);
  });

  it("exit 3 when no endpoint serves before the timeout, with each one's last failure", async () => {
    a.mode = 'unavailable';
    const run = await catmesh([
      'kv',
      'put',
      'cat.state',
      'full',
      '--timeout',
      '2s',
      '--endpoints',
      `${dead},${a.address}`,
    ]);
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    const lines = run.stderr.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^catmesh: UNAVAILABLE: no endpoint could serve the request within 2s \(/,
    );
    expect(lines[0]).toContain(`${dead}: UNAVAILABLE: `);
    expect(lines[0]).toContain(
      `${a.address}: UNAVAILABLE: replica 1 cannot serve this now: no leader is known`,
    );
    // Every attempt was the same write.
    expect(new Set(requestIdsOf(a, 'put').map((id) => JSON.stringify(id))).size).toBe(1);
  });
});

describe('a watch whose stream breaks', () => {
  it('resumes on another endpoint from the revision after the last one printed', async () => {
    const running = startCatmesh([
      'kv',
      'watch',
      'feeder.',
      '--count',
      '3',
      '--timeout',
      '60s',
      '--endpoints',
      `${a.address},${b.address}`,
    ]);
    await expect.poll(() => a.openWatches()).toBe(1);
    const first = store.put('feeder.bowl', Buffer.from('empty')).modRevision;
    await expect.poll(() => running.stdout().split('\n').length).toBe(2);

    // Both replicas are down while a change happens: the watch must not miss it.
    a.mode = 'unavailable';
    b.mode = 'unavailable';
    a.breakWatches();
    await expect.poll(() => running.stderr()).toContain('resuming');
    const missed = store.put('feeder.bowl', Buffer.from('full')).modRevision;
    b.mode = 'serving';
    await expect.poll(() => b.openWatches()).toBe(1);
    const after = store.put('feeder.bowl', Buffer.from('half')).modRevision;

    const run = await running.result;
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      [
        `PUT feeder.bowl = empty (rev ${first})`,
        `PUT feeder.bowl = full (rev ${missed})`,
        `PUT feeder.bowl = half (rev ${after})`,
        '',
      ].join('\n'),
    );
    expect(run.stderr.split('\n')[0]).toBe(
      `catmesh: watch on ${a.address} broke (UNAVAILABLE: replica 1 cannot serve this now: no leader is known); resuming from revision ${first + 1}`,
    );
    const resumed = b.calls.filter((call) => call.method === 'watch').at(-1);
    expect(resumed?.request).toEqual({ prefix: 'feeder.', startRevision: first + 1 });
  });
});
