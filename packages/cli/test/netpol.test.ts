// `catmesh netpol` on hand-written manifests: the matrix a person reads, the check's verdict,
// and bad input refused naming the document and the field. (The chart's own policies are
// checked in test/chart/network-policies.test.ts.)
import { describe, expect, it } from 'vitest';
import { catmesh, jsonLines } from './support/run-catmesh.js';

const workloads = `apiVersion: apps/v1
kind: Deployment
metadata: { name: shop }
spec:
  template:
    metadata: { labels: { app.kubernetes.io/name: shop } }
    spec:
      containers: [{ name: shop, ports: [{ name: http, containerPort: 8080 }, { name: metrics, containerPort: 9090 }] }]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db }
spec:
  template:
    metadata: { labels: { app.kubernetes.io/name: db } }
    spec:
      containers: [{ name: db, ports: [{ name: sql, containerPort: 5432 }] }]
`;

const policies = `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: deny }
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: shop-to-db }
spec:
  podSelector: { matchLabels: { app.kubernetes.io/name: db } }
  ingress: [{ from: [{ podSelector: { matchLabels: { app.kubernetes.io/name: shop } } }], ports: [{ port: sql }] }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: shop-out }
spec:
  podSelector: { matchLabels: { app.kubernetes.io/name: shop } }
  policyTypes: [Egress]
  egress: [{ to: [{ podSelector: { matchLabels: { app.kubernetes.io/name: db } } }], ports: [{ port: sql }] }]
`;

describe('catmesh netpol', () => {
  it('prints the matrix a person reads, with what it does not model', async () => {
    const run = await catmesh(['netpol', 'matrix', '-'], { stdin: workloads + policies });
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').slice(0, 4)).toEqual([
      'FROM \\ TO  shop  db   DNS',
      'shop       ·     sql  no',
      'db         ·     ·    no',
      'external   ·     ·    -',
    ]);
    expect(run.stdout).toContain('established connections: a policy is checked when a connection');
  });

  it('--json gives every cell with the policies that decided it', async () => {
    const run = await catmesh(['netpol', 'matrix', '-', '--json'], {
      stdin: workloads + policies,
    });
    const cell = jsonLines(run.stdout).find((c) => c['from'] === 'shop' && c['port'] === 'sql');
    expect(cell).toMatchObject({
      to: 'db',
      verdict: {
        allowed: true,
        egress: { allowedBy: ['default/shop-out'] },
        ingress: { selectedBy: ['default/deny', 'default/shop-to-db'] },
      },
    });
  });

  it('check: exit 0 when the policies are the graph, 1 naming each difference', async () => {
    const graph = (edges: string) => ({ stdin: workloads + policies, graph: edges });
    const write = async ({ stdin, graph: edges }: { stdin: string; graph: string }) => {
      const { mkdtemp, writeFile } = await import('node:fs/promises');
      const dir = await mkdtemp('/tmp/catmesh-netpol-');
      await writeFile(`${dir}/values.yaml`, `serviceGraph:\n${edges}`);
      return catmesh(['netpol', 'check', '-', '--graph', `${dir}/values.yaml`], { stdin });
    };
    const same = await write(graph('  - { from: shop, to: db, port: sql }\n'));
    expect(same.stdout).toContain('the policies allow exactly the declared service graph');
    expect(same.code).toBe(0);
    const differs = await write(graph('  - { from: db, to: shop, port: http }\n'));
    expect(differs.code).toBe(1);
    expect(differs.stdout).toContain('allowed but not declared: shop -> db:sql');
    expect(differs.stdout).toContain('declared but not allowed: db -> shop:http');
    // An edge `onlyWith` a workload these manifests do not deploy is out of the comparison.
    const without = await write(
      graph(
        '  - { from: shop, to: db, port: sql }\n  - { from: db, to: shop, port: http, onlyWith: cache }\n',
      ),
    );
    expect(without.stdout).toContain('not deployed: db -> shop:http');
    expect(without.code).toBe(0);
    const withIt = await write(
      graph(
        '  - { from: shop, to: db, port: sql }\n  - { from: db, to: shop, port: http, onlyWith: shop }\n',
      ),
    );
    expect(withIt.stdout).toContain('declared but not allowed: db -> shop:http');
    expect(withIt.code).toBe(1);
  });

  it.each([
    ['a file that is not YAML', '---\nkind: [unclosed', 'stdin, document 3: not YAML'],
    [
      'a policy with an unknown field',
      policies.replace('ports: [{ port: sql }] }]', 'prots: [{ port: sql }] }]'),
      'stdin, document 4 (NetworkPolicy shop-to-db): spec.ingress[0].prots: unknown field',
    ],
    [
      'an unknown named port',
      policies.replace('ports: [{ port: sql }] }]', 'ports: [{ port: postgres }] }]'),
      'stdin, document 4 (NetworkPolicy shop-to-db): spec.ingress[0].ports[0].port: no container port of any workload is named "postgres"',
    ],
    [
      'a bad operator',
      policies.replace(
        'podSelector: {}',
        'podSelector: { matchExpressions: [{ key: a, operator: Is }] }',
      ),
      'spec.podSelector.matchExpressions[0].operator: expected one of In, NotIn, Exists, DoesNotExist',
    ],
  ])('refuses %s, naming the document and field (exit 2)', async (_, text, message) => {
    const run = await catmesh(['netpol', 'matrix', '-'], { stdin: workloads + text });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(message);
  });
});
