import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InMemoryStore, startReplica, type Replica } from './support/in-memory-cat-feeder.js';
import { catmesh, jsonLines, startCatmesh } from './support/run-catmesh.js';

let store: InMemoryStore;
let replica: Replica;
let endpoint: string[];

beforeAll(async () => {
  store = new InMemoryStore();
  replica = await startReplica(store, 1);
  endpoint = ['--endpoints', replica.address];
});
afterAll(() => replica.stop());

describe('catmesh kv watch', () => {
  it('prints the changes under the prefix from now on, one line each, and exits after --count', async () => {
    store.put('cat.state', Buffer.from('hungry'));
    const running = startCatmesh(['kv', 'watch', 'cat.', '--count', '2', ...endpoint]);
    await expect.poll(() => replica.openWatches()).toBe(1);
    store.put('dog.state', Buffer.from('asleep'));
    const put = store.put('cat.state', Buffer.from('full')).modRevision;
    store.delete('cat.state');
    const deleted = store.revision;
    store.put('cat.state', Buffer.from('hungry'));

    const run = await running.result;
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toBe(
      `PUT cat.state = full (rev ${put})\nDELETE cat.state (rev ${deleted})\n`,
    );
    await expect.poll(() => replica.openWatches()).toBe(0);
  });

  it('--from-revision replays the changes since then; --json prints one object per change', async () => {
    const from = store.put('bowl', Buffer.from('empty')).modRevision;
    store.put('bowl', Buffer.from('full'));
    store.delete('bowl');
    const run = await catmesh([
      'kv',
      'watch',
      'bowl',
      '--from-revision',
      String(from),
      '--count',
      '3',
      '--json',
      ...endpoint,
    ]);
    expect(run.code).toBe(0);
    expect(jsonLines(run.stdout)).toEqual([
      {
        type: 'PUT',
        key: 'bowl',
        value: 'empty',
        value_base64: Buffer.from('empty').toString('base64'),
        create_revision: from,
        mod_revision: from,
        version: 1,
        served_by: 1,
      },
      expect.objectContaining({ type: 'PUT', value: 'full', mod_revision: from + 1, version: 2 }),
      { type: 'DELETE', key: 'bowl', mod_revision: from + 2, served_by: 1 },
    ]);
  });

  it('ends with exit 0 on Ctrl-C, closing the stream', async () => {
    const interrupt = new AbortController();
    const running = startCatmesh(['kv', 'watch', ...endpoint], { signal: interrupt.signal });
    await expect.poll(() => replica.openWatches()).toBe(1);
    interrupt.abort();
    expect(await running.result).toMatchObject({ code: 0, stdout: '', stderr: '' });
    await expect.poll(() => replica.openWatches()).toBe(0);
  });
});
