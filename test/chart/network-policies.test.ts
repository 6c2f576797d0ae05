// The chart's NetworkPolicies against the service graph its values declare: the matrix
// computed from every rendered case equals the graph, and an edge taken out of the graph is a
// difference `catmesh netpol check` names.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compareWithGraph,
  computeMatrix,
  parseManifests,
  parseServiceGraph,
} from '@catmesh/netpol';
import { CHART_DIR, NAMESPACE, REPO_ROOT, helm, valuesArgs, VALUES_MATRIX } from './helm-chart.js';

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
});
