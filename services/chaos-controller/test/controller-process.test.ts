// The controller as it runs in a cluster, against a real mesh: the built main.js in a process of
// its own, with the chart's env and the chart's Role for its service account, talking to the
// fake API server whose Pods are a `catmesh up` mesh's processes (all on 127.0.0.1, each pod
// with its own named ports). The test plays the rest of the cluster: the user with the real
// kubectl, and the kubelet and ReplicaSet (a deleted pod's process is SIGKILLed and the pod
// comes back, which the runner's restart makes true). NetworkPolicies are not enforced here;
// their objects are the mesh tests' (kubernetes-mesh.test.ts) and the rehearsal's business.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { experimentCrd, FaultAdmins, type ChaosReport, type MeshInstance } from '@catmesh/chaos';
import {
  builtInType,
  freePort,
  grantedPermissions,
  requires,
  serviceAccountUser,
  startFakeApiServer,
  type CustomResourceDefinition,
  type FakeApiServer,
  type KubeObject,
  type ObjectInput,
} from '@catmesh/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { renderChart } from '../../../test/chart/helm-chart.js';
import {
  runCatmesh,
  unbuiltService,
  userEnv,
} from '../../../packages/cli/test/support/local-mesh.js';
import { startChaosMesh, type ChaosMesh } from '../../../packages/cli/test/support/chaos-mesh.js';
import { FINALIZER } from '../src/index.js';
import { EXPERIMENTS, ExperimentClient, KUBECTL } from './support/experiment-client.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const HELM = join(ROOT, '.tools/bin/helm');
const MAIN = join(ROOT, 'services/chaos-controller/dist/main.js');
const NAMESPACE = 'catmesh';
const SERVICE_ACCOUNT = 'catmesh-chaos-controller';
const CONTROLLER = serviceAccountUser(NAMESPACE, SERVICE_ACCOUNT);
const TOKENS = { admin: 'admin-token', controller: 'controller-token' } as const;
const PODS = builtInType('', 'pods');
const EVENTS = builtInType('', 'events');
const CONFIG_MAPS = builtInType('', 'configmaps');
const LEASES = builtInType('coordination.k8s.io', 'leases');
const POLICIES = builtInType('networking.k8s.io', 'networkpolicies');

const problem =
  (existsSync(KUBECTL) && existsSync(HELM)
    ? undefined
    : 'no kubectl or helm in .tools/bin (make setup)') ??
  (existsSync(MAIN)
    ? undefined
    : 'services/chaos-controller is not built (npx tsc -b tsconfig.build.json)') ??
  unbuiltService('orders');

interface ManifestInstance {
  readonly name: string;
  readonly service: string;
  readonly ports: { readonly main: number; readonly metrics: number; readonly admin?: number };
}

class ControllerProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly identity: string,
    env: Readonly<Record<string, string>>,
  ) {
    this.child = spawn(process.execPath, [MAIN], {
      env: { PATH: process.env['PATH'] ?? '', ...env, CATMESH_INSTANCE_ID: identity },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      stream?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}

let server: FakeApiServer;
let mesh: ChaosMesh;
let instances: ManifestInstance[];
let kubeconfig: string;
let user: ExperimentClient;
let work: string;
let role: KubeObject;
let controllerEnv: Record<string, string>;
const controllers: ControllerProcess[] = [];
let kubelet: NodeJS.Timeout | undefined;

function podOf(instance: ManifestInstance): ObjectInput {
  const apiPort = instance.service === 'nats' ? 'client' : 'grpc';
  const ports = [
    { name: apiPort, containerPort: instance.ports.main },
    { name: 'metrics', containerPort: instance.ports.metrics },
    ...(instance.ports.admin === undefined
      ? []
      : [{ name: 'admin', containerPort: instance.ports.admin }]),
  ];
  return {
    metadata: {
      name: instance.name,
      labels: {
        'app.kubernetes.io/name': instance.service,
        'app.kubernetes.io/instance': NAMESPACE,
        'app.kubernetes.io/component': instance.service,
      },
    },
    spec: { containers: [{ name: instance.service, image: 'catmesh:dev', ports }] },
    status: { phase: 'Running', podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] },
  };
}

function eventsOf(
  name: string,
): { reason: string; message: string; type: string; reportingInstance: string }[] {
  return server.store
    .list(EVENTS, NAMESPACE, () => true)
    .filter((event) => (event['involvedObject'] as { name?: string }).name === name)
    .map(
      (event) =>
        event as unknown as {
          reason: string;
          message: string;
          type: string;
          reportingInstance: string;
        },
    );
}

/** The app faults the mesh's processes hold now, of one run. */
async function faultsOf(runId: string): Promise<string[]> {
  const meshInstances: MeshInstance[] = instances
    .filter((i) => i.ports.admin !== undefined)
    .map((i) => ({
      name: i.name,
      service: i.service,
      address: `127.0.0.1:${i.ports.main}`,
      adminAddress: `127.0.0.1:${i.ports.admin}`,
    }));
  const admins = new FaultAdmins(meshInstances);
  try {
    const lists = await Promise.all(admins.names.map((name) => admins.list(name)));
    return lists.flatMap((list) =>
      list.faults.filter((f) => f.fault?.experiment === runId).map((f) => f.fault!.id),
    );
  } finally {
    admins.close();
  }
}

function startController(identity: string): ControllerProcess {
  const controller = new ControllerProcess(identity, controllerEnv);
  controllers.push(controller);
  return controller;
}

beforeAll(async () => {
  if (problem !== undefined) return;
  work = await mkdtemp(join(tmpdir(), 'catmesh-controller-'));
  server = await startFakeApiServer({
    crds: [experimentCrd() as unknown as CustomResourceDefinition],
    users: {
      [TOKENS.admin]: { name: 'kubernetes-admin', groups: ['system:masters'] },
      [TOKENS.controller]: CONTROLLER,
    },
  });
  kubeconfig = await server.kubeconfig(TOKENS.admin);
  user = new ExperimentClient(server, kubeconfig, NAMESPACE, work);
  // As `helm install` leaves it: the chart's Role and RoleBinding for the controller.
  const objects = await renderChart({ name: 'default' });
  for (const kind of ['Role', 'RoleBinding'] as const) {
    const object = objects.find((o) => o.kind === kind && o.metadata.name === SERVICE_ACCOUNT);
    if (object === undefined) throw new Error(`the chart renders no ${kind} ${SERVICE_ACCOUNT}`);
    const created = server.store.create(
      builtInType('rbac.authorization.k8s.io', kind === 'Role' ? 'roles' : 'rolebindings'),
      NAMESPACE,
      structuredClone(object),
    );
    if (kind === 'Role') role = created;
  }
  const deployment = objects.find(
    (o) => o.kind === 'Deployment' && o.metadata.name === SERVICE_ACCOUNT,
  );
  const chartEnv = Object.fromEntries(
    (
      deployment?.spec as {
        template: { spec: { containers: { env: { name: string; value?: string }[] }[] } };
      }
    ).template.spec.containers[0]!.env.filter(
      (variable) => variable.value !== undefined && variable.name.startsWith('CATMESH_'),
    ).map((variable) => [variable.name, variable.value!]),
  );
  // The chart's network rules, which a networkpolicy partition is computed from (not enforced here).
  for (const policy of objects.filter((o) => o.kind === 'NetworkPolicy')) {
    server.store.create(POLICIES, NAMESPACE, structuredClone(policy));
  }
  mesh = await startChaosMesh('--no-dashboard');
  await mesh.healthy();
  instances = (
    JSON.parse(await readFile(join(mesh.stateDir, 'mesh.json'), 'utf8')) as {
      instances: ManifestInstance[];
    }
  ).instances;
  for (const instance of instances) server.store.create(PODS, NAMESPACE, podOf(instance));
  controllerEnv = {
    ...chartEnv,
    // What the kubelet would resolve: the fieldRefs, the pod's own name given per process.
    CATMESH_NAMESPACE: NAMESPACE,
    CATMESH_METRICS_PORT: String(await freePort()),
    CATMESH_GRPC_HOST: '127.0.0.1',
    CATMESH_SHUTDOWN_GRACE: '20s',
    KUBECONFIG: await server.kubeconfig(TOKENS.controller),
    // Short, so that a handover fits in a test; the ratios are the defaults'.
    CATMESH_LEASE_DURATION: '3s',
    CATMESH_LEASE_RENEW_DEADLINE: '2s',
    CATMESH_LEASE_RETRY: '500ms',
    CATMESH_SWEEP_INTERVAL: '1s',
  };
  // The kubelet and the ReplicaSet: a pod deleted through the API has its process killed, and
  // comes back (the runner restarts the process; the pod object is created again).
  kubelet = setInterval(() => {
    for (const instance of instances) {
      const present =
        server.store.list(PODS, NAMESPACE, (meta) => meta.name === instance.name).length > 0;
      if (present) continue;
      server.store.create(PODS, NAMESPACE, podOf(instance));
      void killInstance(instance.name);
    }
  }, 100);
  startController('controller-a');
}, 180_000);

async function killInstance(name: string): Promise<void> {
  const status = await runCatmesh(['status', '--json', '--state-dir', mesh.stateDir]);
  for (const line of status.stdout.trim().split('\n')) {
    const row = JSON.parse(line) as { name: string; pid?: number };
    if (row.name === name && row.pid !== undefined) process.kill(row.pid, 'SIGKILL');
  }
}

afterAll(async () => {
  clearInterval(kubelet);
  await Promise.all(controllers.map((c) => c.stop('SIGKILL')));
  await mesh?.stop();
  await server?.close();
  if (work !== undefined) await rm(work, { recursive: true, force: true });
}, 120_000);

describe('the chaos controller process against a catmesh mesh', requires(problem), () => {
  it('runs an experiment applied with kubectl: status, conditions, Events and the report', async () => {
    const [controller] = controllers;
    expect(await user.apply('latency-is-zero.yaml', 'latency', 0.3)).toContain(
      'chaosexperiment.catmesh.dev/latency created',
    );
    const status = await user.waitForPhase('latency', ['Finished', 'Failed']);
    expect(status.phase, controller!.output).toBe('Finished');
    const object = user.get('latency');
    expect(object.metadata.finalizers).toEqual([FINALIZER]);
    expect(status.observedGeneration).toBe(object.metadata.generation);
    expect(status.targets?.map((t) => [t.step, t.state])).toEqual(
      instances.filter((i) => i.service === 'inventory').map(() => ['slow-inventory', 'Recovered']),
    );
    const complete = status.conditions?.find((c) => c.type === 'Complete');
    expect(complete).toMatchObject({ status: 'True', reason: 'Finished', observedGeneration: 1 });
    expect(status.conditions?.find((c) => c.type === 'Injected')).toMatchObject({
      status: 'False',
    });
    expect(eventsOf('latency').map((e) => e.reason)).toEqual(
      expect.arrayContaining(['Started', 'Injected', 'Recovered', 'Finished']),
    );
    // The report is the local one: the injected 200 ms is in the order path's p50 during the fault.
    const configMap = server.store.get(CONFIG_MAPS, NAMESPACE, status.reportConfigMap!);
    expect(configMap.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'ChaosExperiment',
      name: 'latency',
      uid: object.metadata.uid,
    });
    const data = configMap['data'] as Record<string, string>;
    const report = JSON.parse(data['report.json']!) as ChaosReport;
    expect(data['report.html']).toContain('<html');
    const orders = report.operations.find((op) => op.name === 'orders')!;
    expect(orders.windows.during.p50Ms).toBeGreaterThanOrEqual(200);
    // Compared within the run, not with a fixed figure: a loaded machine is slower before too.
    expect(orders.windows.during.p50Ms).toBeGreaterThan(orders.windows.before.p50Ms!);
    expect(status.verdict).toBe(report.hypothesis.verdict);
    // What a user sees: `kubectl get`, and the report through the CLI.
    const out = join(work, 'latency-report');
    const read = await runCatmesh(
      ['chaos', 'report', 'latency', '--kubernetes', '--namespace', NAMESPACE, '--out', out],
      userEnv({ KUBECONFIG: kubeconfig }),
    );
    expect(read.stderr).toBe('');
    expect(read.stdout).toContain(`latency: hypothesis ${report.hypothesis.verdict.toUpperCase()}`);
    expect(await readFile(join(out, 'report.html'), 'utf8')).toBe(data['report.html']);
    const described = await user.kubectl('describe', 'chaosexperiment', 'latency');
    expect(described).toMatch(/Normal\s+Injected\s+.*catmesh-chaos-controller\s+slow-inventory:/);
    expect(described).toMatch(/Type:\s+Complete/);
    const table = await user.kubectl('get', 'chaosexperiments');
    expect(table).toMatch(/NAME\s+PHASE\s+TARGETS\s+FAULT\s+VERDICT\s+AGE/);
    expect(table).toMatch(
      new RegExp(`latency\\s+Finished\\s+1/1 recovered\\s+latency\\s+${status.verdict}`),
    );
  });

  it('refuses what the CRD schema rejects (422 naming the field); fails an invalid experiment and one that selects nothing, touching nothing', async () => {
    await expect(
      user.apply('latency-is-zero.yaml', 'bad-schema', 0.3, (spec) => {
        spec['steps'] = [{ ...(spec['steps'] as object[])[0], duration: 'soon' }];
      }),
    ).rejects.toThrow(/spec\.steps\[0\]\.duration/);
    expect(server.store.list(EXPERIMENTS, NAMESPACE, (meta) => meta.name === 'bad-schema')).toEqual(
      [],
    );

    // Valid under the CRD's schema, but not an experiment: a latency fault needs its delay.
    await user.apply('latency-is-zero.yaml', 'no-delay', 0.3, (spec) => {
      const [step] = spec['steps'] as Record<string, unknown>[];
      spec['steps'] = [{ ...step, fault: { kind: 'latency' } }];
    });
    const invalid = await user.waitForPhase('no-delay', ['Failed', 'Finished']);
    expect(invalid.conditions?.find((c) => c.type === 'Accepted')).toMatchObject({
      status: 'False',
      reason: 'Invalid',
    });
    expect(invalid.summary).toContain('spec.steps[0].fault.delay: required for a latency fault');

    await user.apply('latency-is-zero.yaml', 'no-targets', 0.3, (spec) => {
      const [step] = spec['steps'] as Record<string, unknown>[];
      spec['steps'] = [{ ...step, target: { service: 'no-such-service' } }];
    });
    const status = await user.waitForPhase('no-targets', ['Failed', 'Finished']);
    expect(status.phase).toBe('Failed');
    const accepted = status.conditions?.find((c) => c.type === 'Accepted');
    expect(accepted).toMatchObject({ status: 'False', reason: 'PreflightFailed' });
    expect(accepted?.message).toContain('no-such-service');
    expect(status.runId).toBeUndefined();
    expect(eventsOf('no-targets').map((e) => e.reason)).toEqual(['PreflightFailed']);
    const read = await runCatmesh(
      ['chaos', 'report', 'no-targets', '--kubernetes', '-n', NAMESPACE],
      userEnv({ KUBECONFIG: kubeconfig }),
    );
    expect(read.code).toBe(1);
    expect(read.stderr).toMatch(
      /no-targets in namespace catmesh .* failed without a report: .*no-such-service/,
    );
    const lost = await runCatmesh(
      ['chaos', 'report', 'no-targets', '--kubernetes', '--kubeconfig', join(work, 'missing')],
      userEnv(),
    );
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain(`catmesh: kubeconfig ${join(work, 'missing')}: ENOENT`);
  });

  it('reverts every fault of a run before the finalizer lets a deleted experiment go', async () => {
    await user.apply('latency-is-zero.yaml', 'deleted', 1, (spec) => {
      spec['steadyState'] = { ...(spec['steadyState'] as object), before: '1s' };
      const [step] = spec['steps'] as Record<string, unknown>[];
      spec['steps'] = [{ ...step, duration: '60s' }];
    });
    let runId = '';
    await vi.waitFor(
      async () => {
        const status = user.get('deleted').status;
        if (status?.targets?.[0]?.state !== 'Injected') throw new Error('not injected yet');
        runId = status.runId!;
        expect(await faultsOf(runId)).not.toEqual([]);
      },
      { timeout: 30_000, interval: 200 },
    );
    // kubectl waits for the deletion, i.e. for the finalizer to go.
    await user.kubectl('delete', 'chaosexperiment', 'deleted', '--timeout=30s');
    expect(server.store.list(EXPERIMENTS, NAMESPACE, (meta) => meta.name === 'deleted')).toEqual(
      [],
    );
    expect(await faultsOf(runId)).toEqual([]);
    expect(
      server.store.list(CONFIG_MAPS, NAMESPACE, (meta) => meta.name === 'deleted-report'),
    ).toEqual([]);
  });

  it('kill -9 of the controller mid-run: the faults end at their expiry, and the restarted controller ends the run Interrupted', async () => {
    const [running] = controllers.splice(0);
    await user.apply('latency-is-zero.yaml', 'orphaned', 1, (spec) => {
      spec['steadyState'] = { ...(spec['steadyState'] as object), before: '1s' };
      const [step] = spec['steps'] as Record<string, unknown>[];
      spec['steps'] = [{ ...step, duration: '4s' }];
    });
    const expiresAt = Date.parse((await user.waitForInjected('orphaned')).expiresAt!);
    const runId = user.get('orphaned').status!.runId!;
    await running!.stop('SIGKILL');
    expect(await faultsOf(runId)).not.toEqual([]);
    // Nobody reverts them: their holders do, at the expiry the run gave them.
    await vi.waitFor(async () => expect(await faultsOf(runId)).toEqual([]), {
      timeout: 20_000,
      interval: 250,
    });
    expect(Date.now()).toBeGreaterThanOrEqual(expiresAt - 250);
    expect(user.get('orphaned').status?.phase).toBe('Running');

    startController('controller-b');
    const status = await user.waitForPhase('orphaned', ['Failed', 'Finished'], 60_000);
    expect(status.phase).toBe('Failed');
    expect(status.conditions?.find((c) => c.type === 'Complete')).toMatchObject({
      status: 'True',
      reason: 'Interrupted',
    });
    // The Event follows the status write; it is not in the same request.
    await vi.waitFor(() =>
      expect(eventsOf('orphaned').map((e) => e.reason)).toContain('Interrupted'),
    );
  });

  it('with two replicas only the Lease holder acts; a kill deletes the leader pod, which comes back', async () => {
    const [holder] = controllers;
    const standby = startController('controller-c');
    await vi.waitFor(() => {
      const lease = server.store.get(LEASES, NAMESPACE, SERVICE_ACCOUNT);
      expect((lease.spec as { holderIdentity?: string }).holderIdentity).toBe(holder!.identity);
    });
    const uids = new Map(
      server.store
        .list(PODS, NAMESPACE, () => true)
        .map((pod) => [pod.metadata.name, pod.metadata.uid]),
    );
    await user.apply('kill-the-leader.yaml', 'kill', 0.3);
    const status = await user.waitForPhase('kill', ['Finished', 'Failed'], 120_000);
    expect(status.phase, holder!.output).toBe('Finished');
    const [target] = status.targets ?? [];
    expect(target).toMatchObject({ step: 'kill-leader', role: 'leader', state: 'Recovered' });
    // Deleted with zero grace and made again: the same name, a new pod.
    expect(server.store.get(PODS, NAMESPACE, target!.pod).metadata.uid).not.toBe(
      uids.get(target!.pod),
    );
    const report = JSON.parse(
      (
        server.store.get(CONFIG_MAPS, NAMESPACE, status.reportConfigMap!)['data'] as Record<
          string,
          string
        >
      )['report.json']!,
    ) as ChaosReport;
    expect(report.linearizability?.verdict).not.toBe('illegal');
    expect(new Set(eventsOf('kill').map((e) => e.reportingInstance))).toEqual(
      new Set([holder!.identity]),
    );
    expect(standby.output).not.toContain('experiment started');
  });

  it('partitions the leader with NetworkPolicies owned by the experiment, and takes them away', async () => {
    await user.apply('a-networkpolicy-is-not-a-partition.yaml', 'policy-cut', 0.5, (spec) => {
      spec['steps'] = [(spec['steps'] as object[])[0]];
    });
    const partitionPolicies = (): KubeObject[] =>
      server.store.list(POLICIES, NAMESPACE, (meta) => meta.name.startsWith('partition-'));
    const leader = (await user.waitForInjected('policy-cut')).pod;
    const [policy] = partitionPolicies();
    expect(policy?.metadata.ownerReferences?.[0]).toMatchObject({
      name: 'policy-cut',
      uid: user.get('policy-cut').metadata.uid,
    });
    expect(server.store.get(PODS, NAMESPACE, leader).metadata.labels).toHaveProperty([
      'chaos.catmesh.dev/partition',
    ]);
    const status = await user.waitForPhase('policy-cut', ['Finished', 'Failed']);
    expect(status.phase).toBe('Finished');
    expect(partitionPolicies()).toEqual([]);
    for (const pod of server.store.list(PODS, NAMESPACE, () => true)) {
      expect(Object.keys(pod.metadata.labels ?? {}).filter((l) => l.startsWith('chaos.'))).toEqual(
        [],
      );
    }
  }, 120_000);

  it('used exactly what the chart’s Role grants, and was refused nothing', () => {
    expect(server.denials(CONTROLLER.name)).toEqual([]);
    expect(server.permissionsUsed(CONTROLLER.name)).toEqual(grantedPermissions(role, NAMESPACE));
  });
});
