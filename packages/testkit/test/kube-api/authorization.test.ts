// Contract tests for authentication and RBAC enforcement in the fake API server, spoken to by the
// real @kubernetes/client-node and kubectl. Who a token is: Authenticating,
// https://kubernetes.io/docs/reference/access-authn-authz/authentication/; what a Role lets it do:
// Using RBAC Authorization, https://kubernetes.io/docs/reference/access-authn-authz/rbac/.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  PatchStrategy,
  RbacAuthorizationV1Api,
  setHeaderOptions,
  Watch,
  type ApiConstructor,
  type ApiType,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  builtInType,
  grantedPermissions,
  requires,
  serviceAccountUser,
  startFakeApiServer,
  type FakeApiServer,
  type ResourceType,
} from '../../src/index.js';
import { rawCall } from './raw-https.js';

const KUBECTL = fileURLToPath(new URL('../../../../.tools/bin/kubectl', import.meta.url));
const NAMESPACE = 'catmesh';
const GROUP = 'chaos.catmesh.dev';
const CRD = {
  spec: {
    group: GROUP,
    names: { plural: 'chaosexperiments', kind: 'ChaosExperiment' },
    versions: [{ name: 'v1alpha1', served: true, subresources: { status: {} } }],
  },
};
const EXPERIMENTS = { group: GROUP, version: 'v1alpha1', namespace: NAMESPACE };
const EXPERIMENT_TYPE: ResourceType = {
  group: GROUP,
  version: 'v1alpha1',
  plural: 'chaosexperiments',
  kind: 'ChaosExperiment',
  statusSubresource: true,
};
const CONTROLLER = serviceAccountUser(NAMESPACE, 'chaos-controller');
const TOKENS = { admin: 'admin-token', controller: 'controller-token' } as const;
const USERS = {
  [TOKENS.admin]: { name: 'kubernetes-admin', groups: ['system:masters'] },
  [TOKENS.controller]: CONTROLLER,
};
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

let server: FakeApiServer;

// A server each, as the tests grant different Roles to one service account.
beforeEach(async () => {
  server = await startFakeApiServer({ crds: [CRD], users: USERS });
});

afterEach(() => server.close());

async function configFor(token: string): Promise<KubeConfig> {
  const config = new KubeConfig();
  config.loadFromFile(await server.kubeconfig(token));
  return config;
}

async function api<T extends ApiType>(token: string, type: ApiConstructor<T>): Promise<T> {
  return (await configFor(token)).makeApiClient(type);
}

/** A Status the server answered with, as client-node hands it over in an ApiException. */
async function refusal(
  call: Promise<unknown>,
): Promise<{ code: number; body: Record<string, unknown> }> {
  const error = await call.then(
    () => expect.unreachable('the request was allowed'),
    (e: unknown) => e,
  );
  if (!(error instanceof ApiException)) throw error;
  return { code: error.code, body: JSON.parse(String(error.body)) as Record<string, unknown> };
}

/** The chart's way: a Role and its RoleBinding to the controller, applied by the admin. */
async function grant(rules: V1PolicyRule[]): Promise<object> {
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'chaos-controller', namespace: NAMESPACE },
    rules,
  };
  const rbac = await api(TOKENS.admin, RbacAuthorizationV1Api);
  await rbac.createNamespacedRole({ namespace: NAMESPACE, body: role });
  await rbac.createNamespacedRoleBinding({
    namespace: NAMESPACE,
    body: {
      metadata: { name: 'chaos-controller', namespace: NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'chaos-controller' },
      subjects: [{ kind: 'ServiceAccount', name: 'chaos-controller', namespace: NAMESPACE }],
    },
  });
  return role;
}

async function createExperiment(name: string): Promise<void> {
  const custom = await api(TOKENS.admin, CustomObjectsApi);
  await custom.createNamespacedCustomObject({
    ...EXPERIMENTS,
    plural: 'chaosexperiments',
    body: { apiVersion: `${GROUP}/v1alpha1`, kind: 'ChaosExperiment', metadata: { name } },
  });
}

describe('authentication', () => {
  it('answers 401 Unauthorized to an unknown token and to a request with none', async () => {
    const core = await api('stolen-token', CoreV1Api);
    const error = await core.listNamespacedConfigMap({ namespace: NAMESPACE }).then(
      () => expect.unreachable('the request was allowed'),
      (e: unknown) => e,
    );
    // client-node keeps the code of a 401 but not its body, which the raw request shows.
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(401);
    const raw = await rawCall(server, 'GET', '/api/v1/namespaces/catmesh/configmaps', undefined, {
      authorization: 'Bearer stolen-token',
    });
    expect(raw.code).toBe(401);
    expect(JSON.parse(raw.text)).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'Unauthorized',
      message: 'Unauthorized',
      code: 401,
    });
    // Not even discovery: only an authenticated user is in system:authenticated.
    expect((await rawCall(server, 'GET', '/api')).code).toBe(401);
    expect(server.permissionsUsed('stolen-token')).toEqual([]);
  });

  it('serves discovery and /openapi to any authenticated user, other paths to masters only', async () => {
    const asController = { authorization: `Bearer ${TOKENS.controller}` };
    for (const path of ['/api', '/apis', `/apis/${GROUP}/v1alpha1`, '/openapi/v3', '/version']) {
      expect((await rawCall(server, 'GET', path, undefined, asController)).code, path).toBe(200);
    }
    const metrics = await rawCall(server, 'GET', '/metrics', undefined, asController);
    expect(metrics.code).toBe(403);
    expect(JSON.parse(metrics.text)).toMatchObject({
      reason: 'Forbidden',
      message: `forbidden: User "${CONTROLLER.name}" cannot get path "/metrics"`,
      details: {},
    });
    const asAdmin = { authorization: `Bearer ${TOKENS.admin}` };
    expect((await rawCall(server, 'GET', '/metrics', undefined, asAdmin)).code).toBe(404);
  });
});

describe('RBAC enforcement', () => {
  it('refuses a service account with no binding with kube-apiserver 403 Status, writing nothing', async () => {
    const core = await api(TOKENS.controller, CoreV1Api);
    const created = await refusal(
      core.createNamespacedConfigMap({ namespace: NAMESPACE, body: { metadata: { name: 'c' } } }),
    );
    expect(created.code).toBe(403);
    expect(created.body).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `configmaps is forbidden: User "${CONTROLLER.name}" cannot create resource "configmaps" in API group "" in the namespace "catmesh"`,
      reason: 'Forbidden',
      // Go's omitempty: a create has no name, the core group is ''.
      details: { kind: 'configmaps' },
      code: 403,
    });
    expect(server.store.list(builtInType('', 'configmaps'), undefined, () => true)).toEqual([]);

    const admin = await api(TOKENS.admin, CoreV1Api);
    const pod = { metadata: { name: 'x' }, spec: { containers: [{ name: 'c', image: 'i' }] } };
    await admin.createNamespacedPod({ namespace: NAMESPACE, body: pod });
    const deleted = await refusal(core.deleteNamespacedPod({ namespace: NAMESPACE, name: 'x' }));
    const message = `pods "x" is forbidden: User "${CONTROLLER.name}" cannot delete resource "pods" in API group "" in the namespace "catmesh"`;
    expect(deleted.body).toMatchObject({ message, details: { name: 'x', kind: 'pods' } });
    expect(
      server.store.get(builtInType('', 'pods'), NAMESPACE, 'x').metadata.deletionTimestamp,
    ).toBe(undefined);
    expect(server.denials(CONTROLLER.name).map((denial) => denial.message)).toEqual([
      created.body['message'],
      message,
    ]);
  });

  it('allows what a Role applied through the API grants, and the Role grants exactly what was used', async () => {
    const core = await api(TOKENS.controller, CoreV1Api);
    const body = { metadata: { name: 'settings' }, data: { mode: 'calm' } };
    expect(
      (await refusal(core.createNamespacedConfigMap({ namespace: NAMESPACE, body }))).code,
    ).toBe(403);
    const role = await grant([
      { apiGroups: [''], resources: ['configmaps'], verbs: ['create', 'get'] },
    ]);
    await core.createNamespacedConfigMap({ namespace: NAMESPACE, body });
    const read = await core.readNamespacedConfigMap({ namespace: NAMESPACE, name: 'settings' });
    expect(read.data).toEqual({ mode: 'calm' });
    const inCatmesh = (verb: string): object => ({
      verb,
      apiGroup: '',
      resource: 'configmaps',
      namespace: NAMESPACE,
    });
    expect(server.permissionsUsed(CONTROLLER.name)).toEqual([
      inCatmesh('create'),
      inCatmesh('get'),
    ]);
    expect(grantedPermissions(role)).toEqual(server.permissionsUsed(CONTROLLER.name));

    // Still only what the Role says: not another namespace, not another verb; a denied request
    // counts as used too, so a Role missing a permission shows in the comparison.
    expect((await refusal(core.createNamespacedConfigMap({ namespace: 'shop', body }))).code).toBe(
      403,
    );
    expect((await refusal(core.listNamespacedConfigMap({ namespace: NAMESPACE }))).code).toBe(403);
    expect(server.permissionsUsed(CONTROLLER.name)).toEqual([
      inCatmesh('create'),
      inCatmesh('get'),
      inCatmesh('list'),
      { verb: 'create', apiGroup: '', resource: 'configmaps', namespace: 'shop' },
    ]);
    expect(server.denials(CONTROLLER.name).map((d) => d.request?.verb)).toEqual([
      'create',
      'create',
      'list',
    ]);
  });

  it('authorizes a watch as verb watch, so list alone does not let an informer run', async () => {
    await grant([{ apiGroups: [GROUP], resources: ['chaosexperiments'], verbs: ['list'] }]);
    const config = await configFor(TOKENS.controller);
    const custom = config.makeApiClient(CustomObjectsApi);
    await custom.listNamespacedCustomObject({ ...EXPERIMENTS, plural: 'chaosexperiments' });
    const ended = new Promise<unknown>((resolve) => {
      void new Watch(config).watch(
        `/apis/${GROUP}/v1alpha1/namespaces/${NAMESPACE}/chaosexperiments`,
        {},
        () => undefined,
        resolve,
      );
    });
    expect(await ended).toMatchObject({ statusCode: 403 });
    expect(server.denials(CONTROLLER.name)).toEqual([
      {
        message: `chaosexperiments.${GROUP} is forbidden: User "${CONTROLLER.name}" cannot watch resource "chaosexperiments" in API group "${GROUP}" in the namespace "catmesh"`,
        request: {
          verb: 'watch',
          apiGroup: GROUP,
          resource: 'chaosexperiments',
          namespace: NAMESPACE,
        },
      },
    ]);
  });

  it('treats chaosexperiments/status as its own resource: status patch allowed, main patch denied', async () => {
    await grant([{ apiGroups: [GROUP], resources: ['chaosexperiments/status'], verbs: ['patch'] }]);
    await createExperiment('latency');
    const custom = await api(TOKENS.controller, CustomObjectsApi);
    const target = { ...EXPERIMENTS, plural: 'chaosexperiments', name: 'latency' };
    await custom.patchNamespacedCustomObjectStatus(
      { ...target, body: { status: { phase: 'Running' } } },
      mergePatch,
    );
    const denied = await refusal(
      custom.patchNamespacedCustomObject({ ...target, body: { spec: { x: 1 } } }, mergePatch),
    );
    expect(denied.code).toBe(403);
    expect(denied.body).toMatchObject({
      reason: 'Forbidden',
      message: `chaosexperiments.${GROUP} "latency" is forbidden: User "${CONTROLLER.name}" cannot patch resource "chaosexperiments" in API group "${GROUP}" in the namespace "catmesh"`,
      details: { name: 'latency', group: GROUP, kind: 'chaosexperiments' },
    });
    const stored = server.store.get(EXPERIMENT_TYPE, NAMESPACE, 'latency');
    expect(stored.status).toEqual({ phase: 'Running' });
    expect(stored.spec).toBe(undefined);
    expect(server.permissionsUsed(CONTROLLER.name).map((p) => `${p.verb} ${p.resource}`)).toEqual([
      'patch chaosexperiments',
      'patch chaosexperiments/status',
    ]);
  });

  it('restricts by resourceNames, letting a list through only with a matching name selector', async () => {
    await grant([
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['get', 'list'],
        resourceNames: ['chaos-controller'],
      },
    ]);
    const admin = await api(TOKENS.admin, CoordinationV1Api);
    for (const name of ['chaos-controller', 'someone-else']) {
      await admin.createNamespacedLease({ namespace: NAMESPACE, body: { metadata: { name } } });
    }
    const leases = await api(TOKENS.controller, CoordinationV1Api);
    const own = await leases.readNamespacedLease({
      namespace: NAMESPACE,
      name: 'chaos-controller',
    });
    expect(own.metadata?.name).toBe('chaos-controller');
    const other = await refusal(
      leases.readNamespacedLease({ namespace: NAMESPACE, name: 'someone-else' }),
    );
    expect(other.code).toBe(403);
    expect((await refusal(leases.listNamespacedLease({ namespace: NAMESPACE }))).code).toBe(403);
    const selected = await leases.listNamespacedLease({
      namespace: NAMESPACE,
      fieldSelector: 'metadata.name=chaos-controller',
    });
    expect(selected.items.map((lease) => lease.metadata?.name)).toEqual(['chaos-controller']);
  });

  it('reads Roles bound through a ClusterRoleBinding and a Group subject', async () => {
    const rbac = await api(TOKENS.admin, RbacAuthorizationV1Api);
    await rbac.createClusterRole({
      body: {
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
      },
    });
    const core = await api(TOKENS.controller, CoreV1Api);
    expect((await refusal(core.listPodForAllNamespaces())).code).toBe(403);
    await rbac.createClusterRoleBinding({
      body: {
        metadata: { name: 'catmesh-pod-readers' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'pod-reader' },
        subjects: [{ kind: 'Group', name: `system:serviceaccounts:${NAMESPACE}` }],
      },
    });
    expect((await core.listPodForAllNamespaces()).items).toEqual([]);
    expect(server.permissionsUsed(CONTROLLER.name)).toEqual([
      { verb: 'list', apiGroup: '', resource: 'pods', namespace: '' },
    ]);
  });

  it('refuses with 422 an RBAC object the authorizer could not read', async () => {
    const rbac = await api(TOKENS.admin, RbacAuthorizationV1Api);
    const { code, body } = await refusal(
      rbac.createNamespacedRoleBinding({
        namespace: NAMESPACE,
        body: {
          metadata: { name: 'broken' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Secret', name: 'x' },
          subjects: [],
        },
      }),
    );
    expect(code).toBe(422);
    expect(body).toMatchObject({ reason: 'Invalid', details: { name: 'broken' } });
    expect((body as { message: string }).message).toContain(
      'roleRef.kind: must be Role or ClusterRole',
    );
  });
});

const kubectl = requires(existsSync(KUBECTL) ? undefined : `no kubectl binary at ${KUBECTL}`);

describe('RBAC enforcement with the real kubectl', kubectl, () => {
  const run = async (token: string, ...args: string[]): Promise<string> => {
    const { stdout } = await promisify(execFile)(KUBECTL, [
      '--kubeconfig',
      await server.kubeconfig(token),
      ...args,
    ]);
    return stdout;
  };

  it('lets a system:masters user do anything, and prints the 403 a service account gets', async () => {
    await createExperiment('pause');
    expect(await run(TOKENS.admin, 'get', 'chaosexperiments', '-n', NAMESPACE, '-o', 'name')).toBe(
      'chaosexperiment.chaos.catmesh.dev/pause\n',
    );
    expect(server.denials('kubernetes-admin')).toEqual([]);
    const failure = await run(TOKENS.controller, 'get', 'chaosexperiments', '-n', NAMESPACE).then(
      () => expect.unreachable('kubectl was allowed'),
      (error: unknown) => error as { stderr: string },
    );
    expect(failure.stderr).toContain(
      `Error from server (Forbidden): chaosexperiments.${GROUP} is forbidden: User "${CONTROLLER.name}" cannot list resource "chaosexperiments" in API group "${GROUP}" in the namespace "catmesh"`,
    );
  });
});
