// The chart's NetworkPolicies against the service graph its values declare: the matrix
// computed from every rendered case equals the graph, an edge taken out of the graph is a
// difference `catmesh netpol check` names, and a partition made of policies refuses exactly the
// connections between its pod and the peers across it.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import {
  allowedEdges,
  compareWithGraph,
  computeMatrix,
  evaluateConnection,
  parseManifests,
  parseServiceGraph,
  PARTITION_LABEL,
  PARTITION_PEER_LABEL,
  partitionPolicy,
  PartitionError,
  policyManifest,
  type Cluster,
  type Pod,
} from '@catmesh/netpol';
import { CHART_DIR, NAMESPACE, REPO_ROOT, helm, valuesArgs, VALUES_MATRIX } from './helm-chart.js';
import { schemaErrors } from './kubernetes-schema.js';

const CLI = `${REPO_ROOT}packages/cli/dist/bin/catmesh.js`;
const VALUES = `${CHART_DIR}/values.yaml`;
const graph = parseServiceGraph(readFileSync(VALUES, 'utf8'), VALUES);
const matrixOptions = {
  externalAddress: '203.0.113.10',
  dns: { namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
};

async function rendered(args: readonly string[]): Promise<string> {
  const result = await helm(['template', 'catmesh', CHART_DIR, '--namespace', NAMESPACE, ...args]);
  if (result.code !== 0) throw new Error(result.stderr);
  return result.stdout;
}

/** `catmesh netpol check -` on `manifests`, from the built CLI, as a user runs it. */
function check(manifests: string): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, 'netpol', 'check', '-', '--namespace', NAMESPACE],
      (error, stdout) => resolve({ code: error ? Number(error.code) : 0, stdout }),
    );
    child.stdin?.end(manifests);
  });
}

describe('the chart’s network policies', () => {
  it.each(VALUES_MATRIX.map((values) => [values.name, values] as const))(
    '%s: the policies allow exactly the declared service graph',
    async (_, values) => {
      const cluster = parseManifests(
        [{ name: 'rendered', text: await rendered(valuesArgs(values)) }],
        NAMESPACE,
      );
      const result = compareWithGraph(computeMatrix(cluster, matrixOptions), graph);
      expect(result.allowedNotDeclared).toEqual([]);
      expect(result.declaredNotAllowed).toEqual([]);
      // Every workload is isolated both ways: no row or column is open by default.
      expect(cluster.policies.map((p) => p.name)).toContain('catmesh-default-deny');
    },
  );

  it('let the dashboard reach exactly what it polls, and only its page be reached', async () => {
    const cluster = parseManifests([{ name: 'rendered', text: await rendered([]) }], NAMESPACE);
    const matrix = computeMatrix(cluster, matrixOptions);
    const dashboard = [...allowedEdges(matrix)].filter((edge) => /(^|> )dashboard\b/.test(edge));
    expect(dashboard.sort()).toEqual([
      // Each tracing service sends it a copy of its spans (the chaos controller traces nothing).
      'cat-feeder -> dashboard:page',
      'dashboard -> cat-feeder:admin',
      'dashboard -> cat-feeder:grpc',
      'dashboard -> cat-feeder:metrics',
      'dashboard -> inventory:admin',
      'dashboard -> inventory:metrics',
      'dashboard -> loadgen:admin',
      'dashboard -> loadgen:metrics',
      'dashboard -> orders:admin',
      'dashboard -> orders:metrics',
      'external -> dashboard:page',
      'inventory -> dashboard:page',
      'loadgen -> dashboard:page',
      'orders -> dashboard:page',
    ]);
    // The fault admin ports stay closed to everyone else but the chaos controller.
    const admins = [...allowedEdges(matrix)].filter((edge) => edge.endsWith(':admin'));
    expect(admins.every((edge) => /^(dashboard|chaos-controller) -> /.test(edge))).toBe(true);
    // With the dashboard off, no edge names it and the rest of the graph is unchanged.
    const off = computeMatrix(
      parseManifests(
        [{ name: 'rendered', text: await rendered(['--set', 'dashboard.enabled=false']) }],
        NAMESPACE,
      ),
      matrixOptions,
    );
    expect([...allowedEdges(off)].sort()).toEqual(
      [...allowedEdges(matrix)].filter((edge) => !dashboard.includes(edge)).sort(),
    );
    // With tracing off there are no spans to copy: the services' edges to its page go with
    // Jaeger's, and nothing else changes.
    const untraced = computeMatrix(
      parseManifests(
        [{ name: 'rendered', text: await rendered(['--set', 'tracing.enabled=false']) }],
        NAMESPACE,
      ),
      matrixOptions,
    );
    expect([...allowedEdges(untraced)].sort()).toEqual(
      [...allowedEdges(matrix)]
        .filter(
          (edge) =>
            !/ -> (dashboard:page|jaeger:)/.test(edge) || edge.startsWith('external -> dashboard'),
        )
        .sort(),
    );
  });

  it('an edge taken out of the graph makes `catmesh netpol check` fail naming it', async () => {
    const full = await check(await rendered([]));
    expect(full.stdout).toContain('the policies allow exactly the declared service graph');
    expect(full.code).toBe(0);
    const without = graph.filter((e) => !(e.from === 'orders' && e.to === 'inventory'));
    const cut = await check(
      await rendered(['--set-json', `serviceGraph=${JSON.stringify(without)}`]),
    );
    expect(cut.code).toBe(1);
    expect(cut.stdout.split('\n').filter((l) => l.startsWith('declared but not allowed'))).toEqual([
      'declared but not allowed: orders -> inventory:grpc',
    ]);
  });

  it('with networkPolicies.enabled=false there are none, and everything is open', async () => {
    const cluster = parseManifests(
      [{ name: 'rendered', text: await rendered(['--set', 'networkPolicies.enabled=false']) }],
      NAMESPACE,
    );
    expect(cluster.policies).toEqual([]);
    const matrix = computeMatrix(cluster, matrixOptions);
    expect(matrix.cells.every((c) => c.verdict.allowed)).toBe(true);
  });

  describe('a partition made of NetworkPolicies', () => {
    /** The release's pods one by one (the three cat-feeder replicas told apart by name). */
    function podsOf(cluster: Cluster): Pod[] {
      return cluster.pods.flatMap((pod) =>
        Array.from({ length: pod.workload === 'cat-feeder' ? 3 : 1 }, (_, i) => ({
          ...pod,
          labels: { ...pod.labels, 'statefulset.kubernetes.io/pod-name': `${pod.workload}-${i}` },
        })),
      );
    }
    const nameOf = (pod: Pod): string => pod.labels['statefulset.kubernetes.io/pod-name']!;

    /** Every pod to every container port of every other pod: allowed or not. */
    function connections(cluster: Cluster, pods: readonly Pod[]): Map<string, boolean> {
      const world: Cluster = { ...cluster, pods };
      const verdicts = new Map<string, boolean>();
      for (const from of pods) {
        for (const to of pods.filter((p) => p !== from)) {
          for (const port of to.ports) {
            const verdict = evaluateConnection(
              world,
              { kind: 'pod', pod: from },
              { kind: 'pod', pod: to },
              port,
            );
            verdicts.set(`${nameOf(from)} -> ${nameOf(to)}:${port.name}`, verdict.allowed);
          }
        }
      }
      return verdicts;
    }

    /** The chart's policies plus the partition's (applied as YAML), with the pods labelled. */
    async function partitioned(direction: 'both' | 'one-way') {
      const text = await rendered([]);
      const cluster = parseManifests([{ name: 'rendered', text }], NAMESPACE);
      const pods = podsOf(cluster);
      const target = pods.find((p) => nameOf(p) === 'cat-feeder-0')!;
      const id = 'exp-1-cut-leader';
      const manifest = policyManifest(
        partitionPolicy(cluster.policies, {
          id,
          policyName: 'partition-cat-feeder-0',
          namespace: NAMESPACE,
          podLabels: target.labels,
          direction,
        }),
      );
      expect(schemaErrors(manifest as never)).toEqual([]);
      // Read back as `catmesh netpol` reads what is applied: with the pods its ports name.
      const applied = parseManifests(
        [
          { name: 'rendered', text },
          { name: 'partition', text: stringify(manifest) },
        ],
        NAMESPACE,
      );
      const labelled = pods.map((pod) => {
        const name = nameOf(pod);
        if (name === 'cat-feeder-0')
          return { ...pod, labels: { ...pod.labels, [PARTITION_LABEL]: id } };
        if (name === 'cat-feeder-1' || name === 'cat-feeder-2')
          return { ...pod, labels: { ...pod.labels, [PARTITION_PEER_LABEL]: id } };
        return pod;
      });
      return {
        before: connections(cluster, pods),
        after: connections(applied, labelled),
      };
    }

    const changed = (before: Map<string, boolean>, after: Map<string, boolean>): string[] =>
      [...before]
        .filter(([edge, allowed]) => after.get(edge) !== allowed)
        .map(
          ([edge, allowed]) =>
            `${edge}: ${allowed ? 'allowed' : 'denied'} -> ${after.get(edge) ? 'allowed' : 'denied'}`,
        )
        .sort();

    it('cuts the pod from its peers both ways, and nothing else', async () => {
      const { before, after } = await partitioned('both');
      expect(changed(before, after)).toEqual([
        'cat-feeder-0 -> cat-feeder-1:raft: allowed -> denied',
        'cat-feeder-0 -> cat-feeder-2:raft: allowed -> denied',
        'cat-feeder-1 -> cat-feeder-0:raft: allowed -> denied',
        'cat-feeder-2 -> cat-feeder-0:raft: allowed -> denied',
      ]);
      // The partitioned pod keeps the rest of its rules: clients still reach it.
      expect(after.get('orders-0 -> cat-feeder-0:grpc')).toBe(true);
    });

    it('one-way: only the connections the pod opens to its peers', async () => {
      const { before, after } = await partitioned('one-way');
      expect(changed(before, after)).toEqual([
        'cat-feeder-0 -> cat-feeder-1:raft: allowed -> denied',
        'cat-feeder-0 -> cat-feeder-2:raft: allowed -> denied',
      ]);
    });

    it('is refused where a direction is open (policies switched off), or the id is no label value', async () => {
      const open = parseManifests(
        [{ name: 'rendered', text: await rendered(['--set', 'networkPolicies.enabled=false']) }],
        NAMESPACE,
      );
      const labels = podsOf(open).find((p) => p.workload === 'cat-feeder')!.labels;
      const partition = { id: 'p', policyName: 'p', namespace: NAMESPACE, podLabels: labels };
      expect(() => partitionPolicy(open.policies, { ...partition, direction: 'both' })).toThrow(
        new PartitionError(
          'no NetworkPolicy selects the pod for ingress, so it is open that way and a policy cannot cut it (are network policies switched off?)',
        ),
      );
      expect(() =>
        partitionPolicy([], { ...partition, id: 'Not a label!', direction: 'both' }),
      ).toThrow(/partition id "Not a label!" is not a label value/);
      expect(() =>
        partitionPolicy([], {
          ...partition,
          podLabels: { ...labels, [PARTITION_LABEL]: 'other' },
          direction: 'both',
        }),
      ).toThrow('the pod is already in partition other: one partition at a time');
    });
  });
});
