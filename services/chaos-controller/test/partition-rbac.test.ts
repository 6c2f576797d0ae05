// What the mesh and the sweeper do to pods and NetworkPolicies, done as the controller's service
// account under the Role the chart renders: nothing is refused, and the permissions used on those
// two resources are exactly the ones the Role grants for them (a grant nothing uses would be more
// than least privilege).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { PARTITION_PEER_LABEL } from '@catmesh/netpol';
import { builtInType, grantedPermissions, MERGE_PATCH, requires } from '@catmesh/testkit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderChart } from '../../../test/chart/helm-chart.js';
import { KubernetesMesh } from '../src/kubernetes-mesh.js';
import { sweepPartitions } from '../src/partition-sweeper.js';
import {
  CONTROLLER,
  CONTROLLER_TOKEN,
  NAMESPACE,
  PODS_TYPE,
  SELECTOR,
  startMeshFixture,
  type MeshFixture,
} from './mesh-fixture.js';

const HELM = fileURLToPath(new URL('../../../.tools/bin/helm', import.meta.url));

let fixture: MeshFixture;

beforeEach(async () => {
  fixture = await startMeshFixture();
});

afterEach(async () => {
  await fixture.close();
});

describe(
  'the networkpolicy and process mechanisms under the chart’s Role',
  requires(existsSync(HELM) ? undefined : `no helm binary at ${HELM} (make setup)`),
  () => {
    it('need exactly the pod and NetworkPolicy permissions the Role grants', async () => {
      const objects = await renderChart({ name: 'default' });
      const role = objects.find(
        (o) => o.kind === 'Role' && o.metadata.name === 'catmesh-chaos-controller',
      );
      const binding = objects.find(
        (o) => o.kind === 'RoleBinding' && o.metadata.name === 'catmesh-chaos-controller',
      );
      if (role === undefined || binding === undefined) throw new Error('no controller Role');
      // As installed: in the release's namespace, which `helm template` leaves out.
      const installed = fixture.server.store.create(
        builtInType('rbac.authorization.k8s.io', 'roles'),
        NAMESPACE,
        structuredClone(role),
      );
      fixture.server.store.create(
        builtInType('rbac.authorization.k8s.io', 'rolebindings'),
        NAMESPACE,
        structuredClone(binding),
      );

      const apis = await fixture.apisFor(CONTROLLER_TOKEN);
      let now = Date.parse('2026-12-07T10:00:00.000Z');
      const mesh = new KubernetesMesh({
        ...apis,
        namespace: NAMESPACE,
        podSelector: SELECTOR,
        owner: fixture.owner,
        now: () => now,
      });
      const partition = {
        id: 'run-1-isolate',
        mechanism: 'networkpolicy',
        targets: ['cat-feeder-0'],
        peers: ['cat-feeder-1'],
        direction: 'both',
        durationMs: 1_000,
        experiment: 'run-1',
      } as const;
      expect(await mesh.instances()).toHaveLength(6);
      await mesh.networkFaults.apply(partition);
      await mesh.networkFaults.revert(partition.id);
      await mesh.networkFaults.apply(partition);
      expect(await mesh.networkFaults.revertAll('run-1')).toEqual([partition.id]);
      await mesh.networkFaults.apply(partition);
      now += 1_000;
      fixture.server.store.patch(PODS_TYPE, NAMESPACE, 'nats-0', undefined, MERGE_PATCH, {
        metadata: { labels: { [PARTITION_PEER_LABEL]: 'gone' } },
      });
      const swept = await sweepPartitions({ ...apis, namespace: NAMESPACE, now });
      expect([swept.expired.length, swept.orphaned.length]).toEqual([1, 1]);
      await mesh.processFaults.apply({
        id: 'run-1-kill',
        kind: 'kill',
        instance: 'cat-feeder-2',
        durationMs: 1_000,
        experiment: 'run-1',
      });

      expect(fixture.server.denials(CONTROLLER.name)).toEqual([]);
      const mine = (p: { resource: string }) =>
        p.resource === 'pods' || p.resource === 'networkpolicies';
      expect(fixture.server.permissionsUsed(CONTROLLER.name).filter(mine)).toEqual(
        grantedPermissions(installed).filter(mine),
      );
    });
  },
);
