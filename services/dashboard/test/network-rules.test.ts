// The network-rules panel's source: a manifests file read into the allow matrix (by
// @catmesh/netpol), one cell per pair of workloads, read again when the file changes, and a
// file that is missing or wrong named as the problem.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NetworkRulesFile } from '../src/network-rules.js';

/** Two Deployments, web → api on :http only, everything else denied. */
const WORKLOADS = `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: web, image: web, ports: [{ name: page, containerPort: 8080 }] }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: api }
spec:
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: api
          ports: [{ name: http, containerPort: 80 }, { name: metrics, containerPort: 9090 }]
`;
const POLICIES = `
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny }
spec: { podSelector: {}, policyTypes: [Ingress, Egress] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-to-api }
spec:
  podSelector: { matchLabels: { app: api } }
  policyTypes: [Ingress]
  ingress: [{ from: [{ podSelector: { matchLabels: { app: web } } }], ports: [{ port: http }] }]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-egress }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Egress]
  egress: [{ to: [{ podSelector: { matchLabels: { app: api } } }] }]
`;

describe('the network rules file', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'network-rules-'));
    file = join(dir, 'network-rules.yaml');
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it("folds the matrix into the ports allowed between each pair of workloads, outside's row last", async () => {
    await writeFile(file, WORKLOADS + POLICIES);
    const rules = await new NetworkRulesFile(file).read();
    expect(rules).toEqual({
      from: ['web', 'api', 'external'],
      to: ['web', 'api'],
      allowed: [
        [[], ['http']],
        [[], []],
        [[], []],
      ],
      policies: 3,
    });
  });

  it('reads the file again once it changed, and only then', async () => {
    await writeFile(file, WORKLOADS + POLICIES);
    const source = new NetworkRulesFile(file);
    const first = await source.read();
    expect(await source.read()).toBe(first);
    // No policy at all: every pod is open, every port of it.
    await writeFile(file, WORKLOADS);
    const open = await source.read();
    expect(open.policies).toBe(0);
    expect(open.allowed[2]).toEqual([['page'], ['http', 'metrics']]);
  });

  it('names the problem: a missing file, or a policy with a field the API does not have', async () => {
    const source = new NetworkRulesFile(file);
    await expect(source.read()).rejects.toThrow(`${file} does not exist`);
    await writeFile(
      file,
      WORKLOADS + POLICIES.replace('policyTypes: [Ingress]', 'policyType: [Ingress]'),
    );
    await expect(source.read()).rejects.toThrow(
      /document \d+ \(NetworkPolicy web-to-api\): spec.policyType: unknown field/,
    );
  });
});
