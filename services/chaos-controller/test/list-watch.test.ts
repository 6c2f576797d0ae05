// The controller's informer against the fake API server, through the real client-node: it follows
// every change, asks for bookmarks (so a quiet watch survives a compaction without a re-list),
// lists again after 410 Gone, and outlives failures with backoff.
import { CoreV1Api, KubeConfig, Watch, type V1ConfigMap } from '@kubernetes/client-node';
import { builtInType, startFakeApiServer, type FakeApiServer } from '@catmesh/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ListWatch } from '../src/list-watch.js';

const NAMESPACE = 'catmesh';
const PATH = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
const CONFIGMAPS = builtInType('', 'configmaps');

let server: FakeApiServer;
let config: KubeConfig;
let core: CoreV1Api;
const running: AbortController[] = [];

beforeAll(async () => {
  server = await startFakeApiServer({ bookmarkIntervalMs: 50 });
  config = new KubeConfig();
  config.loadFromFile(await server.kubeconfig('admin'));
  core = config.makeApiClient(CoreV1Api);
});

afterEach(() => {
  for (const controller of running.splice(0)) controller.abort();
});

afterAll(() => server.close());

interface Started {
  readonly informer: ListWatch<V1ConfigMap>;
  readonly changes: string[];
  readonly errors: unknown[];
  lists: number;
}

function start(list?: () => Promise<{ items: V1ConfigMap[] }>): Started {
  const started: Started = { informer: undefined as never, changes: [], errors: [], lists: 0 };
  const informer = new ListWatch<V1ConfigMap>({
    path: PATH,
    list: () => {
      started.lists += 1;
      return list?.() ?? core.listNamespacedConfigMap({ namespace: NAMESPACE });
    },
    watch: new Watch(config),
    onChange: (key) => started.changes.push(key),
    onError: (error) => started.errors.push(error),
    initialBackoffMs: 20,
  });
  const controller = new AbortController();
  running.push(controller);
  void informer.run(controller.signal);
  return Object.assign(started, { informer });
}

async function put(name: string, namespace = NAMESPACE): Promise<V1ConfigMap> {
  return core.createNamespacedConfigMap({ namespace, body: { metadata: { name }, data: {} } });
}

describe('ListWatch', () => {
  it('lists, then follows every add, change and delete under its key', async () => {
    await put('listed');
    const { informer, changes } = start();
    await vi.waitFor(() => expect(informer.hasSynced).toBe(true));
    expect(informer.get(`${NAMESPACE}/listed`)?.metadata?.name).toBe('listed');
    await put('added');
    await core.replaceNamespacedConfigMap({
      namespace: NAMESPACE,
      name: 'added',
      body: { metadata: { name: 'added' }, data: { k: 'v' } },
    });
    await core.deleteNamespacedConfigMap({ namespace: NAMESPACE, name: 'listed' });
    await vi.waitFor(() => expect(informer.get(`${NAMESPACE}/listed`)).toBeUndefined());
    expect(informer.get(`${NAMESPACE}/added`)?.data).toEqual({ k: 'v' });
    expect(changes.filter((key) => key === `${NAMESPACE}/added`).length).toBeGreaterThanOrEqual(2);
    expect(changes.at(-1)).toBe(`${NAMESPACE}/listed`);
  });

  // API Concepts: "Watch bookmarks" — a bookmark moves a quiet watch's version past writes it
  // does not see, so a reconnect after compaction resumes without a re-list
  it('resumes after a compaction without listing again, thanks to bookmarks', async () => {
    const started = start();
    await vi.waitFor(() => expect(started.informer.hasSynced).toBe(true));
    const unseen = await put('unseen', 'elsewhere');
    await vi.waitFor(() =>
      expect(Number(started.informer.lastSyncResourceVersion)).toBeGreaterThanOrEqual(
        Number(unseen.metadata?.resourceVersion),
      ),
    );
    server.store.compact();
    server.dropWatches();
    await put('after-bookmark');
    await vi.waitFor(() =>
      expect(started.informer.get(`${NAMESPACE}/after-bookmark`)).toBeDefined(),
    );
    expect(started.lists).toBe(1);
  });

  // API Concepts: "410 Gone responses" — a version older than the compaction means list again
  it('lists again after 410 Gone and reports what went while it was behind', async () => {
    await put('doomed');
    const started = start();
    await vi.waitFor(() => expect(started.informer.get(`${NAMESPACE}/doomed`)).toBeDefined());
    // While the API server is down the deletion and a compaction happen, so the informer comes
    // back with a version the server has forgotten.
    const stale = started.informer.lastSyncResourceVersion;
    const outage = server.interrupt();
    server.store.delete(CONFIGMAPS, NAMESPACE, 'doomed');
    server.store.compact();
    await vi.waitFor(() => expect(started.errors.length).toBeGreaterThan(0));
    outage.resume();
    // `lists` counts the list asked for; its answer is taken in a moment later.
    await vi.waitFor(
      () => {
        expect(started.lists).toBe(2);
        expect(started.informer.get(`${NAMESPACE}/doomed`)).toBeUndefined();
      },
      { timeout: 10_000 },
    );
    expect(started.changes.at(-1)).toBe(`${NAMESPACE}/doomed`);
    expect(Number(started.informer.lastSyncResourceVersion)).toBeGreaterThan(Number(stale));
  });

  it('keeps going after a failed list, with backoff, and reports the failure', async () => {
    let failures = 1;
    const started = start(() => {
      if (failures-- > 0) return Promise.reject(new Error('connection refused'));
      return core.listNamespacedConfigMap({ namespace: NAMESPACE });
    });
    await vi.waitFor(() => expect(started.informer.hasSynced).toBe(true));
    expect(started.errors).toEqual([new Error('connection refused')]);
    expect(started.lists).toBe(2);
  });
});
