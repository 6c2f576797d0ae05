// Contract tests for how objects live and die on the fake API server (finalizers, owners, patches,
// selectors), spoken to by the real @kubernetes/client-node.
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeApiServer, type FakeApiServer } from '../../src/index.js';

const NAMESPACE = 'default';
const CRD = {
  spec: {
    group: 'chaos.catmesh.dev',
    names: { plural: 'experiments', kind: 'ChaosExperiment' },
    versions: [{ name: 'v1alpha1', served: true, subresources: { status: {} } }],
  },
};
const EXPERIMENTS = {
  group: 'chaos.catmesh.dev',
  version: 'v1alpha1',
  namespace: NAMESPACE,
  plural: 'experiments',
};
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);

let server: FakeApiServer;
let core: CoreV1Api;
let custom: CustomObjectsApi;
let objects: KubernetesObjectApi;

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [CRD] });
  const config = new KubeConfig();
  config.loadFromFile(await server.kubeconfig('admin'));
  core = config.makeApiClient(CoreV1Api);
  custom = config.makeApiClient(CustomObjectsApi);
  objects = KubernetesObjectApi.makeApiClient(config);
});

afterAll(() => server.close());

interface Experiment extends KubernetesObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

async function createExperiment(name: string, extra: object = {}): Promise<Experiment> {
  return (await custom.createNamespacedCustomObject({
    ...EXPERIMENTS,
    body: {
      apiVersion: 'chaos.catmesh.dev/v1alpha1',
      kind: 'ChaosExperiment',
      metadata: { name, ...extra },
      spec: { steps: 1 },
    },
  })) as Experiment;
}

async function getExperiment(name: string): Promise<Experiment> {
  return (await custom.getNamespacedCustomObject({ ...EXPERIMENTS, name })) as Experiment;
}

/** The HTTP code and Status reason of a call the server must refuse. */
async function refusal(call: Promise<unknown>): Promise<{ code: number; reason: unknown }> {
  const error: unknown = await call.then(
    () => new Error('the call was accepted'),
    (e: unknown) => e,
  );
  if (!(error instanceof ApiException)) throw error;
  const body = JSON.parse(String(error.body)) as { reason?: unknown };
  return { code: error.code, reason: body.reason };
}

function configMap(name: string, metadata: object = {}): V1ConfigMap {
  return { metadata: { name, ...metadata }, data: { k: 'v' } };
}

describe('finalizers', () => {
  // Finalizers: a delete of an object with finalizers sets deletionTimestamp and leaves it in
  // place; removing the last finalizer completes the deletion; none can be added meanwhile
  // https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/
  it('holds a deleted object until its last finalizer goes, and takes no new finalizer', async () => {
    await createExperiment('held', { finalizers: ['catmesh.dev/recover-faults'] });
    await custom.deleteNamespacedCustomObject({ ...EXPERIMENTS, name: 'held' });
    const deleting = await getExperiment('held');
    expect(deleting.metadata?.deletionTimestamp).toBeDefined();
    expect(deleting.metadata?.finalizers).toEqual(['catmesh.dev/recover-faults']);

    expect(
      await refusal(
        custom.patchNamespacedCustomObject(
          {
            ...EXPERIMENTS,
            name: 'held',
            body: { metadata: { finalizers: ['catmesh.dev/recover-faults', 'another'] } },
          },
          mergePatch,
        ),
      ),
    ).toEqual({ code: 422, reason: 'Invalid' });

    await custom.patchNamespacedCustomObject(
      { ...EXPERIMENTS, name: 'held', body: { metadata: { finalizers: null } } },
      mergePatch,
    );
    expect(await refusal(getExperiment('held'))).toEqual({ code: 404, reason: 'NotFound' });
  });
});

describe('garbage collection', () => {
  // Garbage Collection: "Owners and dependents" — a dependent goes with its last owner; one that
  // keeps a live owner only loses the reference to the deleted one
  // https://kubernetes.io/docs/concepts/architecture/garbage-collection/#owners-dependents
  it('deletes what only a deleted object owned and keeps what another owner still holds', async () => {
    const first = await createExperiment('owner-a');
    const second = await createExperiment('owner-b');
    const reference = (owner: Experiment): object => ({
      apiVersion: 'chaos.catmesh.dev/v1alpha1',
      kind: 'ChaosExperiment',
      name: owner.metadata?.name,
      uid: owner.metadata?.uid,
      controller: false,
    });
    await core.createNamespacedConfigMap({
      namespace: NAMESPACE,
      body: configMap('report-a', { ownerReferences: [reference(first)] }),
    });
    await core.createNamespacedConfigMap({
      namespace: NAMESPACE,
      body: configMap('shared', { ownerReferences: [reference(first), reference(second)] }),
    });
    await custom.deleteNamespacedCustomObject({ ...EXPERIMENTS, name: 'owner-a' });

    expect(
      await refusal(core.readNamespacedConfigMap({ namespace: NAMESPACE, name: 'report-a' })),
    ).toEqual({ code: 404, reason: 'NotFound' });
    const shared = await core.readNamespacedConfigMap({ namespace: NAMESPACE, name: 'shared' });
    expect(shared.metadata?.ownerReferences?.map((owner) => owner.name)).toEqual(['owner-b']);
  });
});

describe('patches', () => {
  // Custom Resources: status is written through /status; a merge patch there changes status and
  // leaves spec and generation alone
  it('merge-patches status through the status subresource without touching spec', async () => {
    const created = await createExperiment('patched');
    const patched = (await custom.patchNamespacedCustomObjectStatus(
      {
        ...EXPERIMENTS,
        name: 'patched',
        body: { status: { phase: 'Running' }, spec: { steps: 9 } },
      },
      mergePatch,
    )) as Experiment;
    expect(patched.status).toEqual({ phase: 'Running' });
    expect(patched.spec).toEqual({ steps: 1 });
    expect(patched.metadata?.generation).toBe(created.metadata?.generation);
  });

  // JSON patch (RFC 6902) applies all or nothing: a failed test operation is 422 and changes
  // nothing
  it('applies a JSON patch all or nothing', async () => {
    const before = await createExperiment('json-patched');
    expect(
      await refusal(
        custom.patchNamespacedCustomObject(
          {
            ...EXPERIMENTS,
            name: 'json-patched',
            body: [
              { op: 'replace', path: '/spec/steps', value: 5 },
              { op: 'test', path: '/spec/steps', value: 4 },
            ],
          },
          jsonPatch,
        ),
      ),
    ).toEqual({ code: 422, reason: 'Invalid' });
    expect(await getExperiment('json-patched')).toEqual(before);

    const after = (await custom.patchNamespacedCustomObject(
      {
        ...EXPERIMENTS,
        name: 'json-patched',
        body: [
          { op: 'test', path: '/spec/steps', value: 1 },
          { op: 'add', path: '/spec/note', value: 'a/b' },
        ],
      },
      jsonPatch,
    )) as Experiment;
    expect(after.spec).toEqual({ steps: 1, note: 'a/b' });
    expect(after.metadata?.generation).toBe(2);
  });

  // Strategic merge needs a built-in kind's Go struct tags: custom resources refuse it with 415,
  // and it is client-node's default for its generic patch
  it('refuses a strategic merge patch of a custom resource with 415', async () => {
    await createExperiment('strategic');
    expect(
      await refusal(
        objects.patch({
          apiVersion: 'chaos.catmesh.dev/v1alpha1',
          kind: 'ChaosExperiment',
          metadata: { name: 'strategic', namespace: NAMESPACE },
          spec: { steps: 2 },
        } as KubernetesObject),
      ),
    ).toEqual({ code: 415, reason: 'UnsupportedMediaType' });
    expect((await getExperiment('strategic')).spec).toEqual({ steps: 1 });
  });

  // API Concepts: an update that changes nothing writes nothing — same resourceVersion
  it('keeps the resourceVersion of an update that changes nothing', async () => {
    const created = await createExperiment('unchanged');
    const same = (await custom.replaceNamespacedCustomObject({
      ...EXPERIMENTS,
      name: 'unchanged',
      body: created,
    })) as Experiment;
    expect(same.metadata?.resourceVersion).toBe(created.metadata?.resourceVersion);
  });
});

describe('names and selectors', () => {
  // Object Names and IDs: names are DNS subdomains; generateName gets a random suffix
  // https://kubernetes.io/docs/concepts/overview/working-with-objects/names/
  it('refuses a name that is not a DNS subdomain and completes a generateName', async () => {
    expect(
      await refusal(
        core.createNamespacedConfigMap({ namespace: NAMESPACE, body: configMap('Not_OK') }),
      ),
    ).toEqual({ code: 422, reason: 'Invalid' });
    const generated = await core.createNamespacedConfigMap({
      namespace: NAMESPACE,
      body: { metadata: { generateName: 'event-' } },
    });
    expect(generated.metadata?.name).toMatch(/^event-[a-z0-9]{5}$/);
  });

  // Labels and Selectors: equality and set requirements; Field Selectors: metadata.name
  it('lists by label selector and by the metadata.name field selector', async () => {
    const labelled = async (name: string, labels: Record<string, string>): Promise<void> => {
      await core.createNamespacedConfigMap({
        namespace: NAMESPACE,
        body: configMap(name, { labels }),
      });
    };
    await labelled('sel-a', { app: 'feeder', tier: 'store' });
    await labelled('sel-b', { app: 'feeder', tier: 'edge' });
    await labelled('sel-c', { app: 'orders' });
    const names = async (query: { labelSelector?: string; fieldSelector?: string }) =>
      (await core.listNamespacedConfigMap({ namespace: NAMESPACE, ...query })).items
        .map((item) => item.metadata?.name)
        .filter((name) => name?.startsWith('sel-'));
    expect(await names({ labelSelector: 'app=feeder' })).toEqual(['sel-a', 'sel-b']);
    expect(await names({ labelSelector: 'app=feeder,tier notin (edge)' })).toEqual(['sel-a']);
    expect(await names({ labelSelector: 'tier in (store, edge),app!=orders' })).toEqual([
      'sel-a',
      'sel-b',
    ]);
    expect(await names({ labelSelector: '!tier' })).toEqual(['sel-c']);
    expect(await names({ fieldSelector: 'metadata.name=sel-b' })).toEqual(['sel-b']);
    expect(
      await refusal(
        core.listNamespacedConfigMap({ namespace: NAMESPACE, fieldSelector: 'spec.nodeName=n1' }),
      ),
    ).toEqual({ code: 400, reason: 'BadRequest' });
  });
  // Field Selectors: "Supported fields" — besides metadata.name and metadata.namespace, each kind
  // has the fields its API registers; `kubectl describe` finds an object's Events by
  // involvedObject.*. https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/#supported-fields
  it("selects Events by their involvedObject's fields, and Pods by status.phase", async () => {
    const event = (name: string, involved: string, type: string) => ({
      metadata: { name },
      involvedObject: {
        kind: 'ChaosExperiment',
        name: involved,
        namespace: NAMESPACE,
        uid: `uid-${involved}`,
      },
      reason: 'Injected',
      message: 'm',
      type,
      source: { component: 'catmesh-chaos-controller' },
    });
    await core.createNamespacedEvent({
      namespace: NAMESPACE,
      body: event('ev-a', 'latency', 'Normal'),
    });
    await core.createNamespacedEvent({
      namespace: NAMESPACE,
      body: event('ev-b', 'kill', 'Warning'),
    });
    const events = async (fieldSelector: string) =>
      (await core.listNamespacedEvent({ namespace: NAMESPACE, fieldSelector })).items.map(
        (item) => item.metadata?.name,
      );
    expect(
      await events(
        'involvedObject.kind=ChaosExperiment,involvedObject.name=latency,involvedObject.uid=uid-latency',
      ),
    ).toEqual(['ev-a']);
    expect(await events('type!=Normal,source=catmesh-chaos-controller')).toEqual(['ev-b']);
    await core.createNamespacedPod({
      namespace: NAMESPACE,
      body: { metadata: { name: 'phase-pod' }, spec: { containers: [{ name: 'c', image: 'i' }] } },
    });
    await core.replaceNamespacedPodStatus({
      namespace: NAMESPACE,
      name: 'phase-pod',
      body: { metadata: { name: 'phase-pod' }, status: { phase: 'Running' } },
    });
    const pods = async (fieldSelector: string) =>
      (await core.listNamespacedPod({ namespace: NAMESPACE, fieldSelector })).items.map(
        (item) => item.metadata?.name,
      );
    expect(await pods('status.phase=Running')).toEqual(['phase-pod']);
    expect(await pods('status.phase=Pending')).toEqual([]);
    // Indexed for Events, not for ConfigMaps.
    expect(
      await refusal(
        core.listNamespacedConfigMap({ namespace: NAMESPACE, fieldSelector: 'reason=x' }),
      ),
    ).toEqual({ code: 400, reason: 'BadRequest' });
  });
});
