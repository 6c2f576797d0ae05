// Contract tests for the fake API server's CRUD, spoken to as raw HTTPS (so each response is seen
// as it is on the wire) and by the real kubectl.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requires, startFakeApiServer, type FakeApiServer } from '../../src/index.js';
import { rawCall } from './raw-https.js';

const KUBECTL = fileURLToPath(new URL('../../../../.tools/bin/kubectl', import.meta.url));
const EXPERIMENTS = {
  spec: {
    group: 'chaos.catmesh.dev',
    names: { plural: 'experiments', kind: 'ChaosExperiment' },
    versions: [{ name: 'v1alpha1', served: true, subresources: { status: {} } }],
  },
};
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
const EXPERIMENTS_PATH = '/apis/chaos.catmesh.dev/v1alpha1/namespaces/default/experiments';

let server: FakeApiServer;
let kubeconfig: string;

beforeAll(async () => {
  server = await startFakeApiServer({ crds: [EXPERIMENTS] });
  kubeconfig = await server.kubeconfig('admin');
});

afterAll(async () => {
  await server.close();
});

/** An object, list or Status as it comes off the wire; tests read only these fields by name. */
interface Body {
  readonly metadata: {
    readonly name: string;
    readonly resourceVersion: string;
    readonly [field: string]: unknown;
  };
  readonly items?: readonly Body[];
  readonly [field: string]: unknown;
}

interface Answer {
  readonly code: number;
  readonly body: Body;
}

async function call(method: string, path: string, body?: unknown): Promise<Answer> {
  const answer = await rawCall(
    server,
    method,
    path,
    body === undefined ? undefined : JSON.stringify(body),
  );
  return { code: answer.code, body: JSON.parse(answer.text) as Body };
}

describe('fake kube-apiserver CRUD', () => {
  // API Concepts: "Resource URIs" and "Response status kind"
  // https://kubernetes.io/docs/reference/using-api/api-concepts/
  it('creates, reads, lists and deletes a ConfigMap, and answers a missing one with a NotFound Status', async () => {
    const created = await call('POST', CONFIGMAPS, {
      metadata: { name: 'settings' },
      data: { mode: 'calm' },
    });
    expect(created.code).toBe(201);
    expect(created.body.metadata['uid']).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.metadata['creationTimestamp']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(created.body.metadata['generation']).toBe(1);
    expect((await call('GET', `${CONFIGMAPS}/settings`)).body['data']).toEqual({ mode: 'calm' });
    const list = await call('GET', CONFIGMAPS);
    expect(list.body).toMatchObject({ kind: 'ConfigMapList', apiVersion: 'v1' });
    expect(list.body.items?.map((item) => item.metadata.name)).toEqual(['settings']);
    expect((await call('DELETE', `${CONFIGMAPS}/settings`)).code).toBe(200);

    const missing = await call('GET', `${CONFIGMAPS}/settings`);
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({
      kind: 'Status',
      apiVersion: 'v1',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      details: { name: 'settings', kind: 'configmaps' },
    });
  });

  // API Concepts: "Resource versions" — one counter across all kinds, collections carry it too
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
  it('stamps every write of every kind from one increasing resourceVersion', async () => {
    const pod = await call('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'cat-0' },
    });
    const experiment = await call('POST', EXPERIMENTS_PATH, { metadata: { name: 'e1' } });
    const list = await call('GET', '/api/v1/namespaces/default/pods');
    const first = Number(pod.body.metadata.resourceVersion);
    expect([
      Number(experiment.body.metadata.resourceVersion),
      Number(list.body.metadata.resourceVersion),
    ]).toEqual([first + 1, first + 1]);
    expect(experiment.body).toMatchObject({
      apiVersion: 'chaos.catmesh.dev/v1alpha1',
      kind: 'ChaosExperiment',
    });
  });

  // API Concepts: "Resource versions" — AlreadyExists on a duplicate create, Conflict on an update
  // with a stale resourceVersion
  // https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-versions
  it('refuses a duplicate create with AlreadyExists and a stale update with Conflict', async () => {
    const leases = '/apis/coordination.k8s.io/v1/namespaces/default/leases';
    const lease = await call('POST', leases, {
      metadata: { name: 'leader' },
      spec: { holderIdentity: 'a' },
    });
    expect(lease.body).toMatchObject({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease' });
    const duplicate = await call('POST', leases, { metadata: { name: 'leader' } });
    expect(duplicate.body).toMatchObject({ kind: 'Status', reason: 'AlreadyExists', code: 409 });

    const updated = await call('PUT', `${leases}/leader`, {
      ...lease.body,
      spec: { holderIdentity: 'b' },
    });
    expect(updated.code).toBe(200);
    const stale = await call('PUT', `${leases}/leader`, {
      ...lease.body,
      spec: { holderIdentity: 'c' },
    });
    expect(stale.body).toMatchObject({
      reason: 'Conflict',
      code: 409,
      details: { name: 'leader' },
    });
  });

  // Custom Resources: "Status subresource" — the main endpoint ignores status, /status changes only
  // status, and generation counts spec changes
  // https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#status-subresource
  it('keeps status and spec apart through the status subresource and bumps generation on spec changes', async () => {
    await call('POST', EXPERIMENTS_PATH, { metadata: { name: 'e2' }, spec: { steps: 1 } });
    const withStatus = await call('PUT', `${EXPERIMENTS_PATH}/e2/status`, {
      metadata: { name: 'e2' },
      spec: { steps: 99 },
      status: { phase: 'Running' },
    });
    expect(withStatus.body).toMatchObject({
      spec: { steps: 1 },
      status: { phase: 'Running' },
      metadata: { generation: 1 },
    });

    const respecced = await call('PUT', `${EXPERIMENTS_PATH}/e2`, {
      metadata: { name: 'e2' },
      spec: { steps: 2 },
      status: { phase: 'Forged' },
    });
    expect(respecced.body).toMatchObject({
      spec: { steps: 2 },
      status: { phase: 'Running' },
      metadata: { generation: 2 },
    });
  });

  // API Concepts: a request body that cannot be decoded is a 400 BadRequest Status
  // https://kubernetes.io/docs/reference/using-api/api-concepts/
  it('answers a body that is not JSON with 400 BadRequest', async () => {
    const response = await rawCall(server, 'POST', CONFIGMAPS, '{not json');
    expect(response.code).toBe(400);
    expect(JSON.parse(response.text)).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      code: 400,
    });
  });
});

const kubectl = requires(existsSync(KUBECTL) ? undefined : `no kubectl binary at ${KUBECTL}`);

describe('fake kube-apiserver with the real kubectl', kubectl, () => {
  // kubectl reads the kubeconfig the server writes and sends its bearer token over HTTPS
  it('serves an object to `kubectl get --raw` through the written kubeconfig', async () => {
    await call('POST', CONFIGMAPS, { metadata: { name: 'for-kubectl' }, data: { k: 'v' } });
    const { stdout } = await promisify(execFile)(KUBECTL, [
      '--kubeconfig',
      kubeconfig,
      'get',
      '--raw',
      `${CONFIGMAPS}/for-kubectl`,
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ kind: 'ConfigMap', data: { k: 'v' } });
  });
});
