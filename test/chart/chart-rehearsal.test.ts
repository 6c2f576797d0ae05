// The chart rehearsal (rehearsal/chart-rehearsal.ts): the rendered workloads run here as local
// processes with the manifests' own commands, env, ports and probes, each pod in its own
// network namespace. This is what catches an env name, a port, a peer list or a probe that
// does not match what the services read. The API server is the test kit's fake, on an address
// of its own (the pods' egress rules govern it), holding what `helm install` stores; the
// bridge (rehearsal/api-server-bridge.ts) makes its Pods the rehearsal's, so the chaos
// controller runs here as it would in a cluster, and the user is the real kubectl.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  manifestText,
  NAMESPACE,
  REPO_ROOT,
  renderChart,
  type RenderedObject,
} from './helm-chart.js';
import { computeMatrix, parseManifests } from '@catmesh/netpol';
import { parse, stringify } from 'yaml';
import {
  experimentCrd,
  planExperiment,
  readExperimentFile,
  runExperiment,
  type ChaosReport,
} from '@catmesh/chaos';
import { kubeApis, KubernetesMesh } from '@catmesh/chaos-controller';
import { sleep } from '@catmesh/runtime';
import { KubeConfig } from '@kubernetes/client-node';
import {
  builtInType,
  grantedPermissions,
  serviceAccountUser,
  startFakeApiServer,
  type CustomResourceDefinition,
  type FakeApiServer,
  type UserInfo,
} from '@catmesh/testkit';
import {
  ExperimentClient,
  KUBECTL,
} from '../../services/chaos-controller/test/support/experiment-client.js';
import {
  ApiServerBridge,
  installRelease,
  type ReleaseOwners,
} from './rehearsal/api-server-bridge.js';
import { ChartRehearsal } from './rehearsal/chart-rehearsal.js';
import { RehearsalMesh } from './rehearsal/rehearsal-mesh.js';
import { connectBoundTo, connectFrom, type ConnectOutcome } from './rehearsal/connect-probe.js';
import type {
  DashboardSnapshot,
  SourceStatus,
} from '../../services/dashboard/src/dashboard-snapshot.js';

const CLI = `${REPO_ROOT}packages/cli/dist/bin/catmesh.js`;
// No Jaeger here (its image has no local stand-in): rehearsed with tracing off.
const REHEARSAL_VALUES = { 'tracing.enabled': 'false' };
// The API server's port on a cluster's control-plane node (kubeadm's and kind's default),
// which the chart's egress rule for the controller names among its defaults.
const API_SERVER_PORT = 6443;
const ADMIN_TOKEN = 'admin-token';
const CONFIG_MAPS = builtInType('', 'configmaps');
const ROLES = builtInType('rbac.authorization.k8s.io', 'roles');
const POLICIES = builtInType('networking.k8s.io', 'networkpolicies');
const CONTROLLER = 'catmesh-chaos-controller';
const tokenOf = (serviceAccount: string): string => `token-${serviceAccount}`;

/** The admin, and a token for every ServiceAccount the chart makes. */
function usersOf(objects: readonly RenderedObject[]): Record<string, UserInfo> {
  return Object.fromEntries<UserInfo>([
    [ADMIN_TOKEN, { name: 'kubernetes-admin', groups: ['system:masters'] }] as const,
    ...objects
      .filter((object) => object.kind === 'ServiceAccount')
      .map(
        (account) =>
          [
            tokenOf(account.metadata.name),
            serviceAccountUser(NAMESPACE, account.metadata.name),
          ] as const,
      ),
  ]);
}

/** One series' value in a Prometheus text exposition (label values without escapes). */
function sample(text: string, name: string, labels: Readonly<Record<string, string>>): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (match?.[1] !== name) continue;
    const found = [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]);
    if (JSON.stringify(found.sort()) === wanted) return Number(match[3]);
  }
  throw new Error(`no ${name} ${wanted} in the metrics`);
}

interface PlaceOrderSlis {
  /** Calls answered, in any way. */
  readonly count: number;
  /** Their latencies summed, in seconds. */
  readonly sum: number;
  /** Those answered within 100 ms. */
  readonly fast: number;
}

/** A GET answered 200 with JSON, its connection bound to `localAddress` (of this namespace). */
function getJson(url: string, localAddress: string, timeoutMs = 2_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { localAddress, timeout: timeoutMs }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        if (response.statusCode !== 200) {
          reject(new Error(`${url} answered ${response.statusCode}: ${body}`));
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch (error) {
          reject(new Error(`${url}: not JSON (${(error as Error).message})`));
        }
      });
    });
    request.on('timeout', () => request.destroy(new Error(`${url}: no answer in ${timeoutMs} ms`)));
    request.on('error', reject);
  });
}

// The chart names the replicas to the dashboard by Raft id (ordinal + 1), each at its headless
// address, and the stateless services by their Services.
const DASHBOARD_REPLICAS = [1, 2, 3].map((id) => `cat-feeder-${id}`);
/** What the dashboard reaches when every edge it has works. */
const DASHBOARD_SOURCES_UP = [
  ...DASHBOARD_REPLICAS.map((replica) => `${replica} Status: up`),
  ...[...DASHBOARD_REPLICAS, 'inventory', 'orders', 'loadgen'].flatMap((name) => [
    `${name} /metrics: up`,
    `${name} fault admin: up`,
  ]),
  'cat.state (linearizable read): up',
].sort();

/** Every source a dashboard snapshot says it asked, as `<source>: up` or `: down (<why>)`. */
function dashboardSources(snapshot: DashboardSnapshot): string[] {
  const sources: SourceStatus[] = [
    ...snapshot.raft.replicas.map((replica) => replica.status),
    ...snapshot.instances.map((instance) => instance.metrics),
    ...snapshot.faults.sources,
    snapshot.catState.source,
  ];
  return sources
    .map(({ source, up, reason }) => `${source}: ${up ? 'up' : `down (${reason})`}`)
    .sort();
}

/** loadgen's PlaceOrder SLIs now, from its /metrics. */
async function placeOrderSlis(url: string): Promise<PlaceOrderSlis> {
  const text = await (await fetch(url)).text();
  const name = 'loadgen_request_duration_seconds';
  const operation = 'place_order';
  return {
    count: sample(text, `${name}_count`, { operation }),
    sum: sample(text, `${name}_sum`, { operation }),
    fast: sample(text, `${name}_bucket`, { operation, le: '0.1' }),
  };
}

function unavailableReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'network and mount namespaces need root';
  for (const program of ['ip', 'unshare', 'setpriv', 'nats-server']) {
    try {
      execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' });
    } catch {
      return `${program} is not installed`;
    }
  }
  return undefined;
}

const unavailable = unavailableReason();
if (unavailable) console.warn(`skipping the chart rehearsal: ${unavailable}`);

/** The catmesh CLI from this (the node's) namespace; resolves with its exit code and output. */
function cli(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: `${stdout}${stderr}`.trim() });
    });
  });
}

describe.skipIf(unavailable !== undefined)('the chart rehearsal', () => {
  let objects: RenderedObject[];
  let rehearsal: ChartRehearsal;
  let workDir: string;
  let server: FakeApiServer;
  let owners: ReleaseOwners;
  let bridge: ApiServerBridge;
  let user: ExperimentClient;

  const catFeeder = (ordinal: number): string => `catmesh-cat-feeder-${ordinal}`;
  const DASHBOARD = 'catmesh-dashboard-0';
  const dashboardPort = (name: string) => ({
    host: rehearsal.podIp(DASHBOARD),
    port: rehearsal.podPorts(DASHBOARD).get(name)!,
  });
  /** The dashboard's /api/snapshot, asked from outside the cluster (on its page port). */
  const dashboardSnapshot = async (): Promise<DashboardSnapshot> => {
    const { host, port } = dashboardPort('page');
    return (await getJson(
      `http://${host}:${port}/api/snapshot`,
      rehearsal.externalAddress,
    )) as DashboardSnapshot;
  };
  const endpoint = (pod: string): string => `${rehearsal.podIp(pod)}:7101`;
  const diagnostics = (): string =>
    [
      ...rehearsal.events.slice(-40),
      // Without the per-call lines, which would bury what changed (roles, connections, errors).
      ...rehearsal.podNames().map((pod) => {
        const lines = rehearsal
          .logs(pod)
          .split('\n')
          .filter((line) => !/"msg":"rpc (handled|failed)"/.test(line));
        return `--- ${pod}\n${lines.slice(-15).join('\n')}`;
      }),
    ].join('\n');

  beforeAll(async () => {
    objects = await renderChart({ name: 'rehearsal', set: REHEARSAL_VALUES });
    workDir = mkdtempSync(`${tmpdir()}/catmesh-rehearsal-`);
    rehearsal = await ChartRehearsal.start({
      objects,
      namespace: NAMESPACE,
      clusterDomain: 'cluster.local',
      workDir,
      apiServer: async (address) => {
        server = await startFakeApiServer({
          host: address,
          port: API_SERVER_PORT,
          crds: [experimentCrd() as unknown as CustomResourceDefinition],
          users: usersOf(objects),
        });
        owners = installRelease(server.store, objects, NAMESPACE);
        return {
          env: { KUBERNETES_SERVICE_HOST: address, KUBERNETES_SERVICE_PORT: `${API_SERVER_PORT}` },
          serviceAccountDirectory: async (namespace, account) =>
            (await server.mountServiceAccount(tokenOf(account), namespace)).directory,
        };
      },
    });
    bridge = ApiServerBridge.start(rehearsal, server.store, owners, NAMESPACE);
    user = new ExperimentClient(server, await server.kubeconfig(ADMIN_TOKEN), NAMESPACE, workDir);
  }, 120_000);

  afterAll(async () => {
    await bridge?.close();
    await rehearsal?.destroy();
    await server?.close();
  }, 60_000);

  it('starts every pod of the chart, and the probes make each one ready', async () => {
    expect(rehearsal.podNames().sort()).toEqual([
      'catmesh-cat-feeder-0',
      'catmesh-cat-feeder-1',
      'catmesh-cat-feeder-2',
      'catmesh-chaos-controller-0',
      'catmesh-dashboard-0',
      'catmesh-inventory-0',
      'catmesh-loadgen-0',
      'catmesh-nats-0',
      'catmesh-orders-0',
    ]);
    await expect
      .poll(() => rehearsal.podNames().filter((pod) => !rehearsal.isReady(pod)), {
        timeout: 150_000,
        interval: 1_000,
        message: 'pods not ready',
      })
      .toEqual([]);
    // Ready by a probe, not by a start: every container but the controller's and the
    // dashboard's (which have no startup probe) passed its startup probe first.
    expect(rehearsal.events.filter((e) => e.endsWith('started (startup probe)'))).toHaveLength(7);
  }, 180_000);

  it("passes the helm test Job's own command: an order is placed and the cat is fed", async () => {
    const job = objects.find((object) => object.kind === 'Job');
    expect(job?.metadata['annotations']).toMatchObject({ 'helm.sh/hook': 'test' });
    const result = await rehearsal.runJob(job!);
    expect(result.output, diagnostics()).toContain('FULFILLED');
    expect(result.output).toContain('cat.state is full: the order fed the cat');
    expect(result.code).toBe(0);
  }, 240_000);

  it('the dashboard, asked from outside on its page port, sees the Raft group and every source it polls, through the policies', async () => {
    // Its readiness needs none of its sources (one that is down is shown as down), so Ready
    // proves little: what it shows is what proves each of its edges open under the default deny.
    let snapshot: DashboardSnapshot | undefined;
    await vi
      .waitFor(
        async () => {
          snapshot = await dashboardSnapshot();
          expect(dashboardSources(snapshot)).toEqual(DASHBOARD_SOURCES_UP);
          const { raft } = snapshot;
          expect(raft.replicas.map((replica) => replica.name)).toEqual(DASHBOARD_REPLICAS);
          // One leader, the one every replica follows.
          const leaders = raft.replicas.filter((replica) => replica.role === 'leader');
          expect(leaders.map((leader) => leader.id)).toEqual([raft.leaderId]);
          expect(raft.replicas.map((replica) => replica.leaderId)).toEqual(
            DASHBOARD_REPLICAS.map(() => raft.leaderId),
          );
          // loadgen's /metrics read as SLIs: its orders in the window.
          expect(snapshot.slis.orders).toBeGreaterThan(0);
        },
        { timeout: 60_000, interval: 1_000 },
      )
      .catch((error: unknown) => {
        const down = snapshot ? dashboardSources(snapshot).filter((s) => !s.endsWith(': up')) : [];
        throw new Error(
          [
            String(error),
            `sources down: ${down.join('; ') || 'none'}`,
            `raft: ${JSON.stringify(snapshot?.raft.replicas)}`,
            diagnostics(),
          ].join('\n'),
        );
      });
    expect(['hungry', 'full']).toContain(snapshot!.catState.value);
    // From outside the cluster the page port only: the metrics port is its probes' (the node's).
    expect(
      await connectBoundTo(rehearsal.externalAddress, [
        dashboardPort('page'),
        dashboardPort('metrics'),
      ]),
    ).toEqual(['connected', 'timed out']);
  }, 90_000);

  /** Every running workload tries every workload's every container port, from its own pod. */
  async function probeMatrix(): Promise<Map<string, ConnectOutcome>> {
    const pods = rehearsal.podNames().sort();
    const byWorkload = new Map<string, string[]>();
    for (const pod of pods) {
      const workload = rehearsal.podLabels(pod)['app.kubernetes.io/name']!;
      byWorkload.set(workload, [...(byWorkload.get(workload) ?? []), pod]);
    }
    const cluster = parseManifests([{ name: 'rendered', text: manifestText(objects) }], NAMESPACE);
    // Each workload's probes from its own pod, all workloads at once (each waits out its
    // dropped connections' timeout, so one after the other would add those up).
    const rows = [...byWorkload].map(async ([from, [source]]) => {
      const targets = [...byWorkload].flatMap(([to, destinations]) => {
        // A pod reaching its own address never leaves it (loopback, which no policy governs):
        // a workload's row to itself is about its other pods, so one with a single pod has none.
        const destination = destinations.find((d) => d !== source);
        if (destination === undefined) return [];
        const ports = cluster.pods.find((p) => p.workload === to)!.ports;
        return ports
          .filter((p) => p.protocol === 'TCP')
          .map((p) => ({
            edge: `${from} -> ${to}:${p.name}`,
            host: rehearsal.podIp(destination),
            port: p.port,
          }));
      });
      const outcomes = await connectFrom(rehearsal.podNetns(source!), targets);
      return targets.map((t, i) => [t.edge, outcomes[i]!] as const);
    });
    return new Map((await Promise.all(rows)).flat());
  }

  /** What the policies say, as the probe would see it: allowed connects, denied times out. */
  function expectedOutcomes(
    rendered: readonly RenderedObject[],
    probed: ReadonlyMap<string, ConnectOutcome>,
  ): Map<string, ConnectOutcome> {
    const cluster = parseManifests([{ name: 'rendered', text: manifestText(rendered) }], NAMESPACE);
    const matrix = computeMatrix(cluster, {
      externalAddress: '203.0.113.10',
      dns: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    });
    return new Map(
      matrix.cells
        .filter((c) => probed.has(`${c.from} -> ${c.to}:${c.port}`))
        .map((c) => [
          `${c.from} -> ${c.to}:${c.port}`,
          c.verdict.allowed ? 'connected' : 'timed out',
        ]),
    );
  }

  it('every workload tries every workload:port, and what connects is what `catmesh netpol` computes', async () => {
    const observed = await probeMatrix();
    const expected = expectedOutcomes(objects, observed);
    const differ = [...expected].filter(([edge, outcome]) => observed.get(edge) !== outcome);
    expect(
      differ.map(([edge, outcome]) => `${edge}: expected ${outcome}, saw ${observed.get(edge)}`),
    ).toEqual([]);
    // Every probe is a cell of the matrix: all sources but external and the Job, which is gone.
    expect([...observed.keys()].sort()).toEqual([...expected.keys()].sort());
    expect(observed.size).toBeGreaterThan(60);
    // The dashboard reaches what its edges name, and nothing else; nothing reaches its metrics
    // port (the node's probes alone: no edge names it). A dropped SYN times out.
    expect(observed.get('dashboard -> cat-feeder:grpc')).toBe('connected');
    expect(observed.get('dashboard -> loadgen:admin')).toBe('connected');
    expect(observed.get('dashboard -> nats:client')).toBe('timed out');
    expect(observed.get('dashboard -> orders:grpc')).toBe('timed out');
    expect(observed.get('orders -> dashboard:metrics')).toBe('timed out');
    expect(observed.get('chaos-controller -> dashboard:page')).toBe('timed out');
    // Not all open, not all shut: the rules do something either way.
    expect([...observed.values()].filter((o) => o === 'connected').length).toBeGreaterThan(5);
    expect([...observed.values()].filter((o) => o === 'timed out').length).toBeGreaterThan(20);
  }, 120_000);

  it('an edge taken out of the graph is blocked for new connections, while the open one keeps flowing', async () => {
    const values = `${workDir}/without-orders-inventory.yaml`;
    const full = parse(readFileSync(`${REPO_ROOT}helm/catmesh/values.yaml`, 'utf8')) as {
      serviceGraph: { from: string; to: string; port: string }[];
    };
    writeFileSync(
      values,
      stringify({
        serviceGraph: full.serviceGraph.filter(
          (e) => !(e.from === 'orders' && e.to === 'inventory'),
        ),
      }),
    );
    const cut = await renderChart({
      name: 'cut',
      files: [values],
      set: REHEARSAL_VALUES,
    });
    await rehearsal.setPolicies(cut);
    try {
      const observed = await probeMatrix();
      expect(observed.get('orders -> inventory:grpc')).toBe('timed out');
      expect(Object.fromEntries(observed)).toEqual(
        Object.fromEntries(expectedOutcomes(cut, observed)),
      );
      // orders' gRPC channel to inventory was opened before the policy changed: it still
      // reserves stock, so an order still goes through. A NetworkPolicy is not a partition.
      const order = await cli([
        ...['order', 'place', '--sku', 'kibble', '--quantity', '1', '--wait'],
        ...['--orders-endpoint', `${rehearsal.podIp('catmesh-orders-0')}:7301`],
      ]);
      expect(order.stdout, diagnostics()).toContain('FULFILLED');
    } finally {
      await rehearsal.setPolicies(objects);
    }
  }, 180_000);

  it('a NetworkPolicy is not a partition: the policy leaves the open Raft streams alone, the kernel drop cuts them', async () => {
    const file = `${REPO_ROOT}k8s/experiments/a-networkpolicy-is-not-a-partition.yaml`;
    // Shortened: 6 s partitions are still many election timeouts (500 ms to 1 s) long.
    const plan = planExperiment(await readExperimentFile(file), { timeScale: 0.6 });
    // The run's partitions go through the API server as the controller's do, owned by an
    // object that stands for the run: deleting it collects whatever the run left.
    const run = server.store.create(CONFIG_MAPS, NAMESPACE, { metadata: { name: 'policy-run' } });
    const config = new KubeConfig();
    config.loadFromFile(user.kubeconfig);
    const api = new KubernetesMesh({
      ...kubeApis(config),
      namespace: NAMESPACE,
      podSelector: `app.kubernetes.io/instance=${rehearsal.podLabels(catFeeder(0))['app.kubernetes.io/instance']}`,
      owner: {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        name: run.metadata.name,
        uid: run.metadata.uid,
      },
    });
    const mesh = new RehearsalMesh(rehearsal, api);
    // First, that the policy partition refuses new connections across it, and only those.
    const raftOf = (pod: string) => ({
      edge: pod,
      host: rehearsal.podIp(pod),
      port: rehearsal.podPorts(pod).get('raft')!,
    });
    const probe = async () => [
      ...(await connectFrom(rehearsal.podNetns(catFeeder(1)), [raftOf(catFeeder(0))])),
      ...(await connectFrom(rehearsal.podNetns(catFeeder(0)), [raftOf(catFeeder(2))])),
      ...(await connectFrom(rehearsal.podNetns(catFeeder(1)), [raftOf(catFeeder(2))])),
    ];
    await mesh.networkFaults.apply({
      id: 'probe-the-cut',
      mechanism: 'networkpolicy',
      targets: [catFeeder(0)],
      peers: [catFeeder(1), catFeeder(2)],
      direction: 'both',
      durationMs: 60_000,
      experiment: 'probe',
    });
    try {
      expect(await probe()).toEqual(['timed out', 'timed out', 'connected']);
    } finally {
      await mesh.networkFaults.revertAll('probe');
    }
    expect(await probe()).toEqual(['connected', 'connected', 'connected']);

    const reportDir = `${workDir}/a-networkpolicy-is-not-a-partition`;
    const { report } = await runExperiment({ plan, source: file, mesh, reportDir });
    const [policy, kernel] = report.steps;
    expect(policy!.error, diagnostics()).toBeUndefined();
    expect(kernel!.error).toBeUndefined();
    // Under the policies, the leader kept its term and committed the writes that went on.
    const leader = policy!.effect!.leaderAtApply!.name;
    expect(policy!.targets).toEqual([leader]);
    expect(policy!.effect!.elections).toEqual([]);
    expect(policy!.effect!.commits[leader]).toBeGreaterThan(20);
    const [writes] = policy!.effect!.operations;
    expect(writes!.ok / (writes!.ok + writes!.failed)).toBeGreaterThan(0.9);
    // In the kernel, the same cut made the followers elect a new leader.
    const cut = kernel!.targets[0];
    expect(kernel!.effect!.elections.length).toBeGreaterThanOrEqual(1);
    expect(kernel!.effect!.elections[0]).toMatchObject({ from: cut });
    const successor = kernel!.effect!.elections[0]!.to;
    expect(successor).not.toBe(cut);
    // Cut off in the kernel, the old leader commits less than the majority that goes on.
    expect(kernel!.effect!.commits[cut!]!).toBeLessThan(kernel!.effect!.commits[successor]!);
    // Each told in one sentence at the top of the report.
    expect(report.findings[0]).toMatch(
      new RegExp(
        `^During policy-partition \\(.*\\): ${leader} stayed leader in term \\d+ and committed \\d+ entries`,
      ),
    );
    expect(report.findings[1]).toMatch(
      new RegExp(
        `^During kernel-partition \\(.*\\): ${cut} lost the lead and committed \\d+ entries while the fault held; \\S+ led term \\d+`,
      ),
    );
    expect(report.linearizability?.verdict).toBe('ok');
    // Nothing of either partition stays behind.
    expect(rehearsal.networkPolicies().map((p) => p.name)).toEqual(
      parseManifests([{ name: 'rendered', text: manifestText(objects) }], NAMESPACE).policies.map(
        (p) => p.name,
      ),
    );
    for (const pod of rehearsal.podNames()) {
      expect(Object.keys(rehearsal.podLabels(pod)).filter((k) => k.startsWith('chaos.'))).toEqual(
        [],
      );
    }
    server.store.delete(CONFIG_MAPS, NAMESPACE, run.metadata.name);
  }, 240_000);

  it('a cat-feeder pod deleted and recreated with its volume rejoins the group', async () => {
    const before = await cli([
      '--endpoints',
      endpoint(catFeeder(0)),
      'kv',
      'put',
      'rehearsal.before',
      'one',
    ]);
    expect(before.code, before.stdout).toBe(0);
    const oldIp = rehearsal.podIp(catFeeder(2));
    const plan = await rehearsal.deletePod(catFeeder(2));
    const claim = `${workDir}/claims/data-catmesh-cat-feeder-2`;
    try {
      // Its claim keeps the Raft log it wrote.
      expect(readdirSync(`${claim}/raft`).length).toBeGreaterThan(0);
      // The group goes on without it: two of three are a majority. If it was the leader, the
      // other two elect one first, and a put meanwhile is refused, so the put is retried.
      await expect
        .poll(
          async () => {
            const during = await cli([
              ...['--endpoints', endpoint(catFeeder(1)), 'kv', 'put', 'rehearsal.during', 'two'],
            ]);
            return during.code === 0 ? 'written' : during.stdout;
          },
          { timeout: 30_000, interval: 1_000 },
        )
        .toBe('written');
    } finally {
      // Whatever happened, the StatefulSet makes it again: the tests after this one need it.
      await rehearsal.recreatePod(plan);
    }
    expect(rehearsal.podIp(catFeeder(2))).not.toBe(oldIp);
    await expect
      .poll(() => rehearsal.isReady(catFeeder(2)), { timeout: 120_000, interval: 1_000 })
      .toBe(true);
    // A stale read is answered from the replica's own state: the write it missed arrived.
    await expect
      .poll(
        async () =>
          (
            await cli([
              ...['--endpoints', endpoint(catFeeder(2)), '--timeout', '3s'],
              ...['kv', 'get', 'rehearsal.during', '--consistency', 'stale'],
            ])
          ).stdout,
        { timeout: 120_000, interval: 2_000 },
      )
      .toBe('two')
      // The diagnostics of the moment it gave up, not of the moment it started waiting.
      .catch((error: unknown) => {
        throw new Error(`${String(error)}\n${diagnostics()}`);
      });
    const own = await cli([
      ...['--endpoints', endpoint(catFeeder(2)), 'kv', 'get', 'rehearsal.before'],
      ...['--consistency', 'stale'],
    ]);
    expect(own.stdout).toBe('one');
    expect(existsSync(claim)).toBe(true);
  }, 300_000);

  describe('the chaos controller, on the fake API server', () => {
    const leaderOf = (report: ChaosReport): string | undefined =>
      report.steps[0]?.effect?.leaderAtApply?.name;
    const reportOf = async (name: string): Promise<ChaosReport> => {
      const configMap = JSON.parse(
        await user.kubectl('get', 'configmap', `${name}-report`, '--output', 'json'),
      ) as { data: Record<string, string>; metadata: { ownerReferences: { name: string }[] } };
      expect(configMap.metadata.ownerReferences[0]?.name).toBe(name);
      return JSON.parse(configMap.data['report.json']!) as ChaosReport;
    };

    it('runs as the chart deploys it: its Lease taken with the mounted token, through its egress rule', async () => {
      await expect
        .poll(() => rehearsal.isReady(`${CONTROLLER}-0`), { timeout: 60_000, interval: 500 })
        .toBe(true);
      const lease = JSON.parse(
        await user.kubectl('get', 'lease', CONTROLLER, '--output', 'json'),
      ) as { spec: { holderIdentity: string } };
      expect(lease.spec.holderIdentity).toBe(`${CONTROLLER}-0`);
      // The Pods the controller sees are the rehearsal's: their IPs, labels and owners.
      const pods = JSON.parse(await user.kubectl('get', 'pods', '--output', 'json')) as {
        items: {
          metadata: { name: string; ownerReferences: { kind: string }[] };
          status: { podIP: string };
        }[];
      };
      expect(pods.items.map((p) => [p.metadata.name, p.status.podIP]).sort()).toEqual(
        rehearsal
          .podNames()
          .map((name) => [name, rehearsal.podIp(name)])
          .sort(),
      );
      const owner = (name: string) =>
        pods.items.find((p) => p.metadata.name === name)?.metadata.ownerReferences[0]?.kind;
      expect(owner(catFeeder(0))).toBe('StatefulSet');
      expect(owner(`${CONTROLLER}-0`)).toBe('ReplicaSet');
    }, 90_000);

    it('kubectl apply latency-is-zero: PlaceOrder slower by the delay in loadgen’s SLIs, the phase moving to Finished, the report in its ConfigMap', async () => {
      const loadgen = 'catmesh-loadgen-0';
      const metrics = `http://${rehearsal.podIp(loadgen)}:${rehearsal.podPorts(loadgen).get('metrics')}/metrics`;
      const watch = spawn(KUBECTL, [
        ...['--kubeconfig', user.kubeconfig, '--namespace', NAMESPACE],
        ...['get', 'chaosexperiments', '--watch'],
      ]);
      let table = '';
      watch.stdout.on('data', (chunk: Buffer) => (table += chunk.toString()));
      try {
        const applied = await placeOrderSlis(metrics);
        await user.apply('latency-is-zero.yaml', 'latency', 0.5);
        await user.waitForInjected('latency');
        const injectedAt = Date.now();
        // Half a second in, the calls that began before the fault have ended; the run reverts
        // it 10 s (its 20 s, time-scaled) after it was applied, which was before injectedAt.
        await sleep(500);
        const injected = await placeOrderSlis(metrics);
        await sleep(injectedAt + 10_000 - 500 - Date.now());
        const expiring = await placeOrderSlis(metrics);
        const status = await user.waitForPhase('latency', ['Finished', 'Failed'], 60_000);
        expect(status.phase, diagnostics()).toBe('Finished');

        const before = {
          count: injected.count - applied.count,
          sum: injected.sum - applied.sum,
        };
        const during = {
          count: expiring.count - injected.count,
          sum: expiring.sum - injected.sum,
          fast: expiring.fast - injected.fast,
        };
        expect(before.count).toBeGreaterThanOrEqual(5);
        expect(during.count).toBeGreaterThanOrEqual(5);
        // During, each order waits for its reservation from the slowed inventory: none is fast
        // (under 100 ms), the mean is at least the delay (200 ms) less three standard errors of
        // its jitter (normal, 20 ms), and above the mean before. A slow machine only adds to
        // both, so nothing here compares with a fixed figure of how fast orders are.
        expect(during.fast).toBe(0);
        expect(during.sum / during.count).toBeGreaterThan(before.sum / before.count);
        const jitterMargin = (3 * 0.02) / Math.sqrt(during.count);
        expect(during.sum / during.count).toBeGreaterThanOrEqual(0.2 - jitterMargin);

        const report = await reportOf('latency');
        expect(report.hypothesis.verdict).toBe(status.verdict);
        const orders = report.operations.find((op) => op.name === 'orders')!;
        expect(orders.windows.during.p50Ms).toBeGreaterThanOrEqual(200);
        await vi.waitFor(() => expect(table).toMatch(/latency\s+Finished\s/), { timeout: 10_000 });
      } finally {
        watch.kill();
      }
      expect(table).toMatch(/^NAME\s+PHASE\s+TARGETS\s+FAULT\s+VERDICT\s+AGE/);
      const phases = [...table.matchAll(/^latency\s+(\w+)/gm)].map((m) => m[1]);
      expect(phases.indexOf('Running')).toBeGreaterThanOrEqual(0);
      expect(phases.indexOf('Finished')).toBeGreaterThan(phases.indexOf('Running'));
      expect(table).toMatch(/latency\s+Finished\s+1\/1 recovered\s+latency\s/);
    }, 120_000);

    it('isolates the leader (app mechanism): the followers elect another, and the history stays linearizable', async () => {
      await user.apply('isolate-the-leader.yaml', 'isolate', 0.4);
      const status = await user.waitForPhase('isolate', ['Finished', 'Failed'], 90_000);
      expect(status.phase, diagnostics()).toBe('Finished');
      const report = await reportOf('isolate');
      const [step] = report.steps;
      expect(step!.error).toBeUndefined();
      expect(step!.targets).toEqual([leaderOf(report)]);
      expect(step!.effect!.elections[0]).toMatchObject({ from: leaderOf(report) });
      expect(report.linearizability?.verdict).toBe('ok');
    }, 120_000);

    it('partitions the leader with NetworkPolicies: enforced while it holds, gone with it', async () => {
      await user.apply('a-networkpolicy-is-not-a-partition.yaml', 'policy-cut', 0.5, (spec) => {
        spec['steps'] = [(spec['steps'] as object[])[0]];
      });
      const leader = (await user.waitForInjected('policy-cut')).pod;
      // Owned by the experiment: deleting it would take them with it.
      const owned = server.store.list(POLICIES, NAMESPACE, (meta) =>
        meta.name.startsWith('partition-'),
      );
      expect(owned.map((policy) => policy.metadata.ownerReferences?.[0]?.uid)).toEqual([
        user.get('policy-cut').metadata.uid,
      ]);
      const followers = [0, 1, 2].map(catFeeder).filter((pod) => pod !== leader);
      const raftOf = (pod: string) => ({
        edge: pod,
        host: rehearsal.podIp(pod),
        port: rehearsal.podPorts(pod).get('raft')!,
      });
      // The policies the controller created through the API are what the pods enforce now.
      await vi.waitFor(
        async () =>
          expect(
            await connectFrom(rehearsal.podNetns(followers[0]!), [
              raftOf(leader),
              raftOf(followers[1]!),
            ]),
          ).toEqual(['timed out', 'connected']),
        { timeout: 10_000, interval: 500 },
      );
      const status = await user.waitForPhase('policy-cut', ['Finished', 'Failed'], 60_000);
      expect(status.phase, diagnostics()).toBe('Finished');
      expect(rehearsal.networkPolicies().map((p) => p.name)).toEqual(
        parseManifests([{ name: 'rendered', text: manifestText(objects) }], NAMESPACE).policies.map(
          (p) => p.name,
        ),
      );
      for (const pod of rehearsal.podNames()) {
        expect(Object.keys(rehearsal.podLabels(pod)).filter((k) => k.startsWith('chaos.'))).toEqual(
          [],
        );
      }
      expect(await connectFrom(rehearsal.podNetns(followers[0]!), [raftOf(leader)])).toEqual([
        'connected',
      ]);
    }, 120_000);

    it('kills the leader pod: deleted through the API, made again with a new IP, and the group goes on', async () => {
      const uids = new Map(rehearsal.podNames().map((pod) => [pod, rehearsal.podUid(pod)]));
      await user.apply('kill-the-leader.yaml', 'kill', 0.3);
      const status = await user.waitForPhase('kill', ['Finished', 'Failed'], 90_000);
      expect(status.phase, diagnostics()).toBe('Finished');
      const [target] = status.targets ?? [];
      expect(target).toMatchObject({ step: 'kill-leader', role: 'leader', state: 'Recovered' });
      expect(rehearsal.podUid(target!.pod)).not.toBe(uids.get(target!.pod));
      expect(rehearsal.events).toContainEqual(expect.stringContaining(`${target!.pod}: deleted`));
      const report = await reportOf('kill');
      expect(report.steps[0]!.effect!.elections[0]).toMatchObject({ from: target!.pod });
      expect(report.linearizability?.verdict).not.toBe('illegal');
      await expect
        .poll(() => rehearsal.isReady(target!.pod), { timeout: 120_000, interval: 1_000 })
        .toBe(true);
    }, 240_000);

    it('used exactly what the chart’s Role grants, was refused nothing, and every change crossed the bridge', () => {
      const { name } = serviceAccountUser(NAMESPACE, CONTROLLER);
      expect(server.denials(name)).toEqual([]);
      const role = server.store.get(ROLES, NAMESPACE, CONTROLLER);
      expect(server.permissionsUsed(name)).toEqual(grantedPermissions(role, NAMESPACE));
      expect(bridge.errors).toEqual([]);
    });
  });
});
