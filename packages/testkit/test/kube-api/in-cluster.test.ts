// Contract tests for reaching the fake API server as a pod does: the service account files the
// kubelet mounts and the KUBERNETES_SERVICE_* variables, read by client-node's loadFromCluster
// (Accessing the Kubernetes API from a Pod,
// https://kubernetes.io/docs/tasks/run-application/access-api-from-pod/), on a listen address
// other than loopback's first, with a certificate that names it.
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { serviceAccountUser, startFakeApiServer, type FakeApiServer } from '../../src/index.js';

const NAMESPACE = 'catmesh';
// Any 127/8 address is local on Linux, so a second one stands in for a bridge's address.
const OTHER_HOST = '127.0.0.2';

const servers: FakeApiServer[] = [];

async function start(...args: Parameters<typeof startFakeApiServer>): Promise<FakeApiServer> {
  const server = await startFakeApiServer(...args);
  servers.push(server);
  return server;
}

afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('in-cluster credentials', () => {
  it('writes token, ca.crt and namespace where the kubelet mounts them, for loadFromCluster', async () => {
    const server = await start({
      users: { 'sa-token': serviceAccountUser(NAMESPACE, 'chaos-controller') },
    });
    const mount = await server.mountServiceAccount('sa-token', NAMESPACE);
    expect(mount.directory).toBe(join(mount.root, 'var/run/secrets/kubernetes.io/serviceaccount'));
    expect(await readFile(join(mount.directory, 'token'), 'utf8')).toBe('sa-token');
    expect(await readFile(join(mount.directory, 'namespace'), 'utf8')).toBe(NAMESPACE);
    expect(await readFile(join(mount.directory, 'ca.crt'), 'utf8')).toBe(server.ca);
    expect(mount.env).toEqual({
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: new URL(server.url).port,
    });

    for (const [name, value] of Object.entries(mount.env)) vi.stubEnv(name, value);
    const config = new KubeConfig();
    config.loadFromCluster(mount.root);
    expect(config.getContextObject(config.getCurrentContext())?.namespace).toBe(NAMESPACE);
    // The token authenticates as the service account: no Role is bound, so RBAC refuses it.
    const core = config.makeApiClient(CoreV1Api);
    const error = await core.listNamespacedPod({ namespace: NAMESPACE }).then(
      () => expect.unreachable('the service account was allowed'),
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<unknown>).code).toBe(403);
    expect(server.denials('system:serviceaccount:catmesh:chaos-controller')).toHaveLength(1);
  });

  it('removes every file it wrote when it closes', async () => {
    const server = await startFakeApiServer();
    const mount = await server.mountServiceAccount('t', NAMESPACE);
    const kubeconfig = await server.kubeconfig('t');
    expect(existsSync(mount.directory) && existsSync(kubeconfig)).toBe(true);
    await server.close();
    expect(existsSync(mount.root) || existsSync(kubeconfig)).toBe(false);
  });
});

describe('listen host and certificate', () => {
  it('listens on another local address, named in its certificate with the in-cluster names', async () => {
    const server = await start({ host: OTHER_HOST });
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.2:\d+$/);
    const names = new X509Certificate(server.ca).subjectAltName?.split(', ') ?? [];
    expect(names.sort()).toEqual([
      'DNS:kubernetes.default.svc',
      'DNS:localhost',
      'IP Address:127.0.0.1',
      'IP Address:127.0.0.2',
    ]);
    // client-node checks the certificate against the address it dials.
    const mount = await server.mountServiceAccount('admin', NAMESPACE);
    expect(mount.env.KUBERNETES_SERVICE_HOST).toBe(OTHER_HOST);
    for (const [name, value] of Object.entries(mount.env)) vi.stubEnv(name, value);
    const config = new KubeConfig();
    config.loadFromCluster(mount.root);
    const core = config.makeApiClient(CoreV1Api);
    expect((await core.listNamespacedPod({ namespace: NAMESPACE })).items).toEqual([]);
  });

  it('makes one certificate per set of names in a process, not one per start', async () => {
    const [first, second, other] = await Promise.all([
      start(),
      start(),
      start({ host: OTHER_HOST }),
    ]);
    expect(second.ca).toBe(first.ca);
    expect(other.ca).not.toBe(first.ca);
    const names = new X509Certificate(first.ca).subjectAltName;
    expect(names).not.toContain('127.0.0.2');
  });
});
