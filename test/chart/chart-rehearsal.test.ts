// The chart rehearsal (rehearsal/chart-rehearsal.ts): the rendered workloads run here as local
// processes with the manifests' own commands, env, ports and probes, each pod in its own
// network namespace. This is what catches an env name, a port, a peer list or a probe that
// does not match what the services read.
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  manifestText,
  NAMESPACE,
  REPO_ROOT,
  renderChart,
  type RenderedObject,
} from './helm-chart.js';
import { computeMatrix, parseManifests } from '@catmesh/netpol';
import { parse, stringify } from 'yaml';
import { planExperiment, readExperimentFile, runExperiment } from '@catmesh/chaos';
import { ChartRehearsal } from './rehearsal/chart-rehearsal.js';
import { RehearsalMesh } from './rehearsal/rehearsal-mesh.js';
import { connectFrom, type ConnectOutcome } from './rehearsal/connect-probe.js';

const CLI = `${REPO_ROOT}packages/cli/dist/bin/catmesh.js`;
// No Jaeger here (its image has no local stand-in): rehearsed with tracing off. No chaos
// controller either: it needs an API server, which the rehearsal does not have; the
// controller's end-to-end test brings a fake one.
const REHEARSAL_VALUES = { 'tracing.enabled': 'false', 'chaosController.enabled': 'false' };

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

  const catFeeder = (ordinal: number): string => `catmesh-cat-feeder-${ordinal}`;
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
    });
  }, 120_000);

  afterAll(async () => {
    await rehearsal?.destroy();
  }, 60_000);

  it('starts every pod of the chart, and the probes make each one ready', async () => {
    expect(rehearsal.podNames().sort()).toEqual([
      'catmesh-cat-feeder-0',
      'catmesh-cat-feeder-1',
      'catmesh-cat-feeder-2',
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
    // Ready by a probe, not by a start: every container passed its startup probe first.
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

  /** Every running workload tries every workload's every container port, from its own pod. */
  async function probeMatrix(): Promise<Map<string, ConnectOutcome>> {
    const pods = rehearsal.podNames().sort();
    const byWorkload = new Map<string, string[]>();
    for (const pod of pods) {
      const workload = rehearsal.podLabels(pod)['app.kubernetes.io/name']!;
      byWorkload.set(workload, [...(byWorkload.get(workload) ?? []), pod]);
    }
    const cluster = parseManifests([{ name: 'rendered', text: manifestText(objects) }], NAMESPACE);
    const observed = new Map<string, ConnectOutcome>();
    for (const [from, [source]] of byWorkload) {
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
      targets.forEach((t, i) => observed.set(t.edge, outcomes[i]!));
    }
    return observed;
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
    const plan = planExperiment(await readExperimentFile(file), {});
    const mesh = new RehearsalMesh(rehearsal, NAMESPACE);
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
    // Its claim keeps the Raft log it wrote.
    const claim = `${workDir}/claims/data-catmesh-cat-feeder-2`;
    expect(readdirSync(`${claim}/raft`).length).toBeGreaterThan(0);

    // The group goes on without it: two of three are a majority.
    const during = await cli([
      '--endpoints',
      endpoint(catFeeder(1)),
      'kv',
      'put',
      'rehearsal.during',
      'two',
    ]);
    expect(during.code, during.stdout).toBe(0);

    await rehearsal.recreatePod(plan);
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
});
