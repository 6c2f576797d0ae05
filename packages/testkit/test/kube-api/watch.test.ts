// Contract tests for the fake API server's watches, spoken to by the real @kubernetes/client-node
// (its Watch and its informer), which is what the chaos controller runs on.
import {
  CoreV1Api,
  KubeConfig,
  makeInformer,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type KubernetesObject,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { startFakeApiServer, type FakeApiServer } from '../../src/index.js';
import { rawCall } from './raw-https.js';

const NAMESPACE = 'default';
const CONFIGMAPS = `/api/v1/namespaces/${NAMESPACE}/configmaps`;
const BOOKMARK_MS = 100;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let server: FakeApiServer;
let config: KubeConfig;
let core: CoreV1Api;
const stops: (() => void)[] = [];

beforeAll(async () => {
  server = await startFakeApiServer({ bookmarkIntervalMs: BOOKMARK_MS });
  config = new KubeConfig();
  config.loadFromFile(await server.kubeconfig('admin'));
  core = config.makeApiClient(CoreV1Api);
});

afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

afterAll(async () => {
  await server.close();
});

interface Seen {
  readonly type: string;
  readonly name: string | undefined;
  readonly resourceVersion: string | undefined;
}

interface Watching {
  readonly events: Seen[];
  /** Resolves with the error the watch ended with (null for a clean end). */
  readonly ended: Promise<unknown>;
}

async function watch(query: Record<string, string | number | boolean>): Promise<Watching> {
  const events: Seen[] = [];
  let end: (error: unknown) => void = () => undefined;
  const ended = new Promise<unknown>((resolve) => (end = resolve));
  const request = await new Watch(config).watch(
    CONFIGMAPS,
    query,
    (type, object: KubernetesObject) => {
      events.push({
        type,
        name: object.metadata?.name,
        resourceVersion: object.metadata?.resourceVersion,
      });
    },
    end,
  );
  stops.push(() => request.abort());
  return { events, ended };
}

function configMap(name: string, labels: Record<string, string> = {}): V1ConfigMap {
  return { metadata: { name, labels }, data: { purr: 'loud' } };
}

describe('fake kube-apiserver watches', () => {
  // API Concepts: "Efficient detection of changes" — a watch from a list's resourceVersion sees
  // every later change, in order, each with its own version
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
  it('streams every change after the resourceVersion it starts from, in order', async () => {
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('before') });
    const list = await core.listNamespacedConfigMap({ namespace: NAMESPACE });
    const from = list.metadata?.resourceVersion ?? '';
    const watching = await watch({ resourceVersion: from });
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('w1') });
    await core.replaceNamespacedConfigMap({
      namespace: NAMESPACE,
      name: 'w1',
      body: { ...configMap('w1'), data: { purr: 'soft' } },
    });
    const deleted = await core.deleteNamespacedConfigMap({ namespace: NAMESPACE, name: 'w1' });
    await vi.waitFor(() => expect(watching.events).toHaveLength(3));
    expect(watching.events.map((e) => `${e.type} ${e.name}`)).toEqual([
      'ADDED w1',
      'MODIFIED w1',
      'DELETED w1',
    ]);
    const versions = watching.events.map((e) => Number(e.resourceVersion));
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(3);
    expect(versions[0]).toBeGreaterThan(Number(from));
    expect(String(versions[2])).toBe((deleted as V1ConfigMap).metadata?.resourceVersion);
  });

  // API Concepts: "Semantics for watch" — without a resourceVersion a watch starts with the
  // current state as synthetic ADDED events
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#semantics-for-watch
  it('starts a watch without a resourceVersion with the current objects as ADDED', async () => {
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('present') });
    const watching = await watch({});
    await vi.waitFor(() =>
      expect(watching.events).toContainEqual(
        expect.objectContaining({ type: 'ADDED', name: 'present' }),
      ),
    );
    expect(watching.events.every((e) => e.type === 'ADDED')).toBe(true);
  });

  // API Concepts: "Streaming lists" — sendInitialEvents=true sends the current objects as ADDED,
  // then a bookmark annotated k8s.io/initial-events-end, then the changes; kubectl's waits
  // (`kubectl delete`) watch this way. It needs bookmarks and resourceVersionMatch=NotOlderThan.
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#streaming-lists
  it('streams a list: the current objects, the initial-events-end bookmark, then the changes', async () => {
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('streamed') });
    const seen: string[] = [];
    const request = await new Watch(config).watch(
      CONFIGMAPS,
      { sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan' },
      (type, object: KubernetesObject) => {
        const end = object.metadata?.annotations?.['k8s.io/initial-events-end'];
        seen.push(
          type === 'BOOKMARK' ? `BOOKMARK ${end ?? ''}` : `${type} ${object.metadata?.name}`,
        );
      },
      () => undefined,
    );
    stops.push(() => request.abort());
    await vi.waitFor(() => expect(seen).toContain('BOOKMARK true'));
    await core.deleteNamespacedConfigMap({ namespace: NAMESPACE, name: 'streamed' });
    // Periodic bookmarks may come at any moment, so the changes are read without them.
    await vi.waitFor(() =>
      expect(seen.filter((line) => !line.startsWith('BOOKMARK')).at(-1)).toBe('DELETED streamed'),
    );
    const end = seen.indexOf('BOOKMARK true');
    expect(seen.slice(0, end)).toContain('ADDED streamed');
    expect(seen.slice(0, end).every((line) => line.startsWith('ADDED '))).toBe(true);

    const refused = await new Promise<unknown>((resolve) => {
      void new Watch(config).watch(
        CONFIGMAPS,
        { sendInitialEvents: true },
        () => undefined,
        resolve,
      );
    });
    // 422, as kube-apiserver answers an invalid watch-list request.
    expect(String(refused)).toMatch(/Unprocessable Entity/);
  });

  // API Concepts: "Watch bookmarks" — only a watch that asks gets BOOKMARK events, carrying a
  // resourceVersion no older than any event already sent
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#watch-bookmarks
  it('sends bookmarks to a watch that asks for them, and only to it', async () => {
    const from = (await core.listNamespacedConfigMap({ namespace: NAMESPACE })).metadata
      ?.resourceVersion;
    const asking = await watch({ resourceVersion: from ?? '', allowWatchBookmarks: true });
    const silent = await watch({ resourceVersion: from ?? '' });
    const created = await core.createNamespacedConfigMap({
      namespace: NAMESPACE,
      body: configMap('marked'),
    });
    await vi.waitFor(() =>
      expect(asking.events.filter((e) => e.type === 'BOOKMARK').length).toBeGreaterThan(1),
    );
    const bookmark = asking.events.findLast((e) => e.type === 'BOOKMARK');
    expect(Number(bookmark?.resourceVersion)).toBeGreaterThanOrEqual(
      Number(created.metadata?.resourceVersion),
    );
    expect(silent.events.map((e) => e.type)).toEqual(['ADDED']);
  });

  // API Concepts: "410 Gone responses" — a watch from a compacted version gets one ERROR event
  // with a 410 Expired Status
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#410-gone-responses
  it('answers a watch from before a compaction with a 410 Expired ERROR event', async () => {
    const old = (await core.listNamespacedConfigMap({ namespace: NAMESPACE })).metadata
      ?.resourceVersion;
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('compacted') });
    server.store.compact();
    const events: { type: string; object: unknown }[] = [];
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(config).watch(
        CONFIGMAPS,
        { resourceVersion: old ?? '' },
        (type, object) => events.push({ type, object }),
        resolve,
      );
    });
    expect(await ended).toBeNull();
    expect(events.map((event) => event.type)).toEqual(['ERROR']);
    expect(events[0]?.object).toMatchObject({ kind: 'Status', code: 410, reason: 'Expired' });
  });

  // Labels and Selectors: a watch with a label selector sees an object that stops matching as
  // DELETED and one that starts matching as ADDED
  // https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
  it('filters a watch by label selector, turning relabelling into ADDED and DELETED', async () => {
    const watching = await watch({ labelSelector: 'app=feeder' });
    await core.createNamespacedConfigMap({
      namespace: NAMESPACE,
      body: configMap('labelled', { app: 'other' }),
    });
    await core.patchNamespacedConfigMap(
      { namespace: NAMESPACE, name: 'labelled', body: { metadata: { labels: { app: 'feeder' } } } },
      mergePatch,
    );
    await core.patchNamespacedConfigMap(
      { namespace: NAMESPACE, name: 'labelled', body: { data: { purr: 'quiet' } } },
      mergePatch,
    );
    await core.patchNamespacedConfigMap(
      { namespace: NAMESPACE, name: 'labelled', body: { metadata: { labels: { app: null } } } },
      mergePatch,
    );
    await vi.waitFor(() => expect(watching.events).toHaveLength(3));
    expect(watching.events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
  });

  // API Concepts: "Semantics for watch" — timeoutSeconds ends the watch cleanly
  it('ends a watch cleanly after its timeoutSeconds', async () => {
    const watching = await watch({ timeoutSeconds: 1 });
    expect(await watching.ended).toBeNull();
  });

  // API Concepts: "Receiving resources as Tables": a watch asked for Tables (kubectl get
  // --watch) gets each event's object as a Table of one row, with the kind's columns
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables
  it('streams a watch that asks for Tables as one-row Tables', async () => {
    const answer = rawCall(server, 'GET', `${CONFIGMAPS}?watch=true&timeoutSeconds=1`, undefined, {
      accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
    });
    await sleep(200);
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('tabled') });
    const { code, text } = await answer;
    expect(code).toBe(200);
    const events = text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; object: Record<string, unknown> });
    const added = events.find(
      (event) =>
        event.type === 'ADDED' &&
        (event.object['rows'] as { cells: unknown[] }[] | undefined)?.[0]?.cells[0] === 'tabled',
    );
    expect(added?.object).toMatchObject({
      kind: 'Table',
      apiVersion: 'meta.k8s.io/v1',
      columnDefinitions: [{ name: 'Name' }, { name: 'Created At' }],
    });
    expect(events.every((event) => event.object['kind'] === 'Table')).toBe(true);
  });
});

describe('client-node informer against the fake', () => {
  // The informer lists, watches from the list's version, and lists again after a 410: the
  // behaviour the controller relies on to never miss an experiment
  it('lists again after a 410 and keeps watching from the new list', async () => {
    let lists = 0;
    const informer = makeInformer(config, CONFIGMAPS, () => {
      lists += 1;
      return core.listNamespacedConfigMap({ namespace: NAMESPACE });
    });
    const names = new Set<string>();
    informer.on('add', (object) => names.add(object.metadata?.name ?? ''));
    informer.on('delete', (object) => names.delete(object.metadata?.name ?? ''));
    await informer.start();
    stops.push(() => void informer.stop());
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('seen-live') });
    await vi.waitFor(() => expect(names).toContain('seen-live'));
    expect(lists).toBe(1);

    // A write the informer does not watch moves the version on; compaction then leaves the
    // informer's own version behind, so its reconnect gets 410 and it must list again.
    await core.createNamespacedConfigMap({ namespace: 'elsewhere', body: configMap('unwatched') });
    server.store.compact();
    server.dropWatches();
    await vi.waitFor(() => expect(lists).toBe(2), { timeout: 10_000 });
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('after') });
    await core.deleteNamespacedConfigMap({ namespace: NAMESPACE, name: 'seen-live' });
    await vi.waitFor(() => expect(names).toContain('after'), { timeout: 10_000 });
    expect(names).not.toContain('seen-live');
    expect(lists).toBe(2);
  });
});
