import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { InMemoryStore, startReplica, type Replica } from './support/in-memory-cat-feeder.js';
import { catmesh, jsonLines } from './support/run-catmesh.js';

let store: InMemoryStore;
let replica: Replica;
let endpoint: string[];

beforeAll(async () => {
  store = new InMemoryStore();
  replica = await startReplica(store, 1);
  endpoint = ['--endpoints', replica.address];
});
afterAll(() => replica.stop());
beforeEach(() => {
  store.keys.clear();
});

describe('catmesh kv put and get', () => {
  it('put prints the revision; get prints just the value', async () => {
    const put = await catmesh(['kv', 'put', 'cat.state', 'hungry', ...endpoint]);
    expect(put).toMatchObject({ code: 0, stderr: '', stdout: `${store.revision}\n` });
    const get = await catmesh(['kv', 'get', 'cat.state', ...endpoint]);
    expect(get).toMatchObject({ code: 0, stdout: 'hungry\n', stderr: '' });
  });

  it('put --json and get --json print the key, value, revisions and the serving member', async () => {
    await catmesh(['kv', 'put', 'cat.state', 'hungry', ...endpoint]);
    const put = await catmesh(['--json', 'kv', 'put', 'cat.state', 'full', ...endpoint]);
    expect(put.code).toBe(0);
    const [written] = jsonLines(put.stdout);
    const revision = store.revision;
    expect(written).toEqual({
      key: 'cat.state',
      value: 'full',
      value_base64: Buffer.from('full').toString('base64'),
      create_revision: revision - 1,
      mod_revision: revision,
      version: 2,
      revision,
      served_by: 1,
    });
    const get = await catmesh(['kv', 'get', 'cat.state', '--json', ...endpoint]);
    expect(get.code).toBe(0);
    expect(jsonLines(get.stdout)).toEqual([{ found: true, ...written }]);
  });

  it('sends the chosen consistency', async () => {
    await catmesh(['kv', 'put', 'cat.state', 'full', ...endpoint]);
    const get = await catmesh(['kv', 'get', 'cat.state', '--consistency', 'stale', ...endpoint]);
    expect(get.code).toBe(0);
    expect(replica.calls.at(-1)).toEqual({
      method: 'get',
      request: { key: 'cat.state', consistency: 3 },
    });
  });

  it('put --stdin writes the bytes as they are; --json shows them exactly in value_base64', async () => {
    const bytes = Buffer.from([0x66, 0x75, 0x6c, 0x6c, 0xff, 0x0a]);
    const put = await catmesh(['kv', 'put', 'blob', '--stdin', ...endpoint], { stdin: bytes });
    expect(put.code).toBe(0);
    expect(store.keys.get('blob')?.value).toEqual(bytes);
    const plain = await catmesh(['kv', 'get', 'blob', ...endpoint]);
    expect(plain.stdoutBytes).toEqual(Buffer.concat([bytes, Buffer.from('\n')]));
    const [json] = jsonLines((await catmesh(['kv', 'get', 'blob', '--json', ...endpoint])).stdout);
    expect(Buffer.from(json!.value_base64 as string, 'base64')).toEqual(bytes);
    expect(json!.value).toBe('full\uFFFD\n');
  });

  it('a missing key is exit 1: a message on stderr, or {"found":false} with --json', async () => {
    const plain = await catmesh(['kv', 'get', 'nobody', ...endpoint]);
    expect(plain).toMatchObject({
      code: 1,
      stdout: '',
      stderr: "catmesh: key 'nobody' not found\n",
    });
    const json = await catmesh(['kv', 'get', 'nobody', '--json', ...endpoint]);
    expect(json.code).toBe(1);
    expect(jsonLines(json.stdout)).toEqual([
      { found: false, key: 'nobody', revision: store.revision, served_by: 1 },
    ]);
  });

  it('INVALID_ARGUMENT is printed with its code and field, exit 1', async () => {
    const run = await catmesh(['kv', 'get', '', ...endpoint]);
    expect(run).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'catmesh: INVALID_ARGUMENT: key: must not be empty\n',
    });
  });

  it('every write carries a fresh request id with sequence 1', async () => {
    await catmesh(['kv', 'put', 'a', '1', ...endpoint]);
    await catmesh(['kv', 'put', 'a', '2', ...endpoint]);
    const ids = replica.calls
      .filter((call) => call.method === 'put')
      .slice(-2)
      .map(
        (call) => (call.request as { requestId: { clientId: string; sequence: number } }).requestId,
      );
    expect(ids.map((id) => id.sequence)).toEqual([1, 1]);
    expect(ids[0]!.clientId).not.toBe(ids[1]!.clientId);
    expect(ids[0]!.clientId).toMatch(/^catmesh-cli-/);
  });
});

describe('catmesh kv cas', () => {
  it('swaps when the value, revision or absence is as expected: exit 0 and the revision', async () => {
    const absent = await catmesh([
      'kv',
      'cas',
      'cat.state',
      'hungry',
      '--expect-absent',
      ...endpoint,
    ]);
    expect(absent).toMatchObject({ code: 0, stdout: `${store.revision}\n` });
    const byValue = await catmesh([
      'kv',
      'cas',
      'cat.state',
      'full',
      '--expect-value',
      'hungry',
      ...endpoint,
    ]);
    expect(byValue).toMatchObject({ code: 0, stdout: `${store.revision}\n` });
    const revision = String(store.keys.get('cat.state')!.modRevision);
    const byRevision = await catmesh([
      'kv',
      'cas',
      'cat.state',
      'hungry',
      '--expect-revision',
      revision,
      ...endpoint,
    ]);
    expect(byRevision).toMatchObject({ code: 0, stdout: `${store.revision}\n` });
    expect(store.keys.get('cat.state')!.value.toString()).toBe('hungry');
  });

  it('a failed expectation writes nothing, prints what the key holds, exit 1', async () => {
    await catmesh(['kv', 'put', 'cat.state', 'full', ...endpoint]);
    const revision = store.revision;
    const plain = await catmesh([
      'kv',
      'cas',
      'cat.state',
      'full',
      '--expect-value',
      'hungry',
      ...endpoint,
    ]);
    expect(plain).toMatchObject({
      code: 1,
      stdout: '',
      stderr: `catmesh: compare failed, nothing written: cat.state = full (mod revision ${revision})\n`,
    });
    const json = await catmesh([
      'kv',
      'cas',
      'cat.state',
      'x',
      '--expect-revision',
      String(revision + 5),
      '--json',
      ...endpoint,
    ]);
    expect(json.code).toBe(1);
    expect(jsonLines(json.stdout)).toEqual([
      expect.objectContaining({
        succeeded: false,
        found: true,
        key: 'cat.state',
        value: 'full',
        mod_revision: revision,
      }),
    ]);
    const absent = await catmesh(['kv', 'cas', 'ghost', 'x', '--expect-value', 'y', ...endpoint]);
    expect(absent).toMatchObject({
      code: 1,
      stderr: 'catmesh: compare failed, nothing written: ghost does not exist\n',
    });
    expect(store.revision).toBe(revision);
  });

  it('needs exactly one expectation (exit 2)', async () => {
    const none = await catmesh(['kv', 'cas', 'k', 'v', ...endpoint]);
    const two = await catmesh([
      'kv',
      'cas',
      'k',
      'v',
      '--expect-absent',
      '--expect-value',
      'x',
      ...endpoint,
    ]);
    for (const run of [none, two]) {
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(
        /^catmesh: give exactly one of --expect-value, --expect-revision, --expect-absent .*see 'catmesh kv cas --help'\)\n$/,
      );
    }
  });
});

describe('catmesh kv del', () => {
  it('prints the revision of the delete; a missing key is exit 1', async () => {
    await catmesh(['kv', 'put', 'cat.state', 'full', ...endpoint]);
    const del = await catmesh(['kv', 'del', 'cat.state', ...endpoint]);
    expect(del).toMatchObject({ code: 0, stdout: `${store.revision}\n` });
    expect(store.keys.has('cat.state')).toBe(false);
    const again = await catmesh(['kv', 'del', 'cat.state', ...endpoint]);
    expect(again).toMatchObject({
      code: 1,
      stdout: '',
      stderr: "catmesh: key 'cat.state' not found, nothing deleted\n",
    });
    const json = await catmesh(['kv', 'del', 'cat.state', '--json', ...endpoint]);
    expect(json.code).toBe(1);
    expect(jsonLines(json.stdout)).toEqual([
      { key: 'cat.state', deleted: false, revision: store.revision, served_by: 1 },
    ]);
  });
});

describe('endpoints', () => {
  it('come from CATMESH_ENDPOINTS when --endpoints is not given', async () => {
    await catmesh(['kv', 'put', 'cat.state', 'full', ...endpoint]);
    const run = await catmesh(['kv', 'get', 'cat.state'], {
      env: { CATMESH_ENDPOINTS: replica.address },
    });
    expect(run).toMatchObject({ code: 0, stdout: 'full\n' });
  });
});
