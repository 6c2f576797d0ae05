// The API's NetworkPolicies in netpol's model must be what `catmesh netpol` reads from the same
// manifests, and a policy sent through client-node must come back as it was (client-node's
// `_from` would silently lose every ingress peer if a plain `from` were sent).
import { partitionPolicy } from '@catmesh/netpol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { policyModel, policyObject } from '../src/network-policy-objects.js';
import { manifestPolicies, NAMESPACE, startMeshFixture, type MeshFixture } from './mesh-fixture.js';

let fixture: MeshFixture;

beforeAll(async () => {
  fixture = await startMeshFixture();
});

afterAll(async () => {
  await fixture.close();
});

describe('NetworkPolicy objects', () => {
  it('reads the listed policies as parseManifests reads their manifests', async () => {
    const { items } = await fixture.networking.listNamespacedNetworkPolicy({
      namespace: NAMESPACE,
    });
    const listed = items.map((item) => policyModel(item, NAMESPACE));
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    expect(listed.length).toBe(9);
    expect(listed.sort(byName)).toEqual(manifestPolicies().sort(byName));
  });

  it('creates a policy that reads back unchanged, ingress peers and ports included', async () => {
    const policy = partitionPolicy(manifestPolicies(), {
      id: 'round-trip',
      policyName: 'partition-round-trip',
      namespace: NAMESPACE,
      podLabels: {
        'app.kubernetes.io/name': 'cat-feeder',
        'app.kubernetes.io/instance': 'catmesh',
      },
      direction: 'both',
    });
    expect(policy.ingress.flatMap((rule) => rule.peers ?? []).length).toBeGreaterThan(0);
    const created = await fixture.networking.createNamespacedNetworkPolicy({
      namespace: NAMESPACE,
      body: policyObject(policy, { labels: { test: 'round-trip' } }),
    });
    expect(created.metadata?.labels).toEqual({ test: 'round-trip' });
    expect(policyModel(created, NAMESPACE)).toEqual(policy);
  });

  it('names the policy and the field of a value the model has no place for', () => {
    expect(() =>
      policyModel(
        {
          metadata: { name: 'odd' },
          spec: {
            podSelector: { matchExpressions: [{ key: 'a', operator: 'Near' }] },
            policyTypes: ['Ingress'],
          },
        },
        NAMESPACE,
      ),
    ).toThrow(
      'networkpolicies/odd: spec.podSelector.matchExpressions[0].operator: unknown operator Near',
    );
  });
});
