// KubernetesMesh against the fake API server through the real client-node: what a partition
// creates (and only that), that its revert needs nothing but the API, all or nothing when a step
// fails, the experiment's deletion collecting its policies, and kill as a pod deletion.
import {
  EXPERIMENT_GROUP,
  EXPERIMENT_PLURAL,
  planExperiment,
  preflight,
  validateExperiment,
} from '@catmesh/chaos';
import { PARTITION_LABEL, PARTITION_PEER_LABEL, partitionPolicy } from '@catmesh/netpol';
import { MERGE_PATCH } from '@catmesh/testkit';
import type { NetworkPartitionRequest } from '@catmesh/chaos';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubernetesMesh } from '../src/kubernetes-mesh.js';
import { policyModel } from '../src/network-policy-objects.js';
import {
  EXPERIMENT_LABEL,
  EXPIRES_AT_ANNOTATION,
  FAULT_ID_ANNOTATION,
} from '../src/partition-objects.js';
import { sweepPartitions } from '../src/partition-sweeper.js';
import {
  manifestPolicies,
  MESH_PODS,
  NAMESPACE,
  PODS_TYPE,
  POLICIES_TYPE,
  SELECTOR,
  startMeshFixture,
  type MeshFixture,
} from './mesh-fixture.js';

const NOW = Date.parse('2026-12-07T10:00:00.000Z');
const RUN = 'kill-the-leader-mf3k2x';

let fixture: MeshFixture;

beforeEach(async () => {
  fixture = await startMeshFixture();
});

afterEach(async () => {
  await fixture.close();
});

function mesh(podSelector = SELECTOR): KubernetesMesh {
  return new KubernetesMesh({
    core: fixture.core,
    networking: fixture.networking,
    namespace: NAMESPACE,
    podSelector,
    owner: fixture.owner,
    now: () => NOW,
  });
}

/** cat-feeder-0 cut off from the other two replicas. */
function isolateReplica(overrides: Partial<NetworkPartitionRequest> = {}): NetworkPartitionRequest {
  return {
    id: `${RUN}-isolate-cat-feeder-0`,
    mechanism: 'networkpolicy',
    targets: ['cat-feeder-0'],
    peers: ['cat-feeder-1', 'cat-feeder-2'],
    direction: 'both',
    durationMs: 30_000,
    experiment: RUN,
    ...overrides,
  };
}

function labelsOf(pod: string): Record<string, string> {
  return fixture.pod(pod)?.metadata.labels ?? {};
}

/** Every partition label on every pod, as `pod: key=value`. */
function partitionLabels(): string[] {
  return fixture.stored(PODS_TYPE).flatMap((pod) =>
    Object.entries(pod.metadata.labels ?? {})
      .filter(([key]) => key === PARTITION_LABEL || key === PARTITION_PEER_LABEL)
      .map(([key, value]) => `${pod.metadata.name}: ${key}=${value}`),
  );
}

function partitionPolicies(): string[] {
  return fixture
    .stored(POLICIES_TYPE, PARTITION_LABEL)
    .map((policy) => policy.metadata.name)
    .sort();
}

describe('KubernetesMesh', () => {
  it('lists the running pods of the selector as instances, in one call', async () => {
    const spy = vi.spyOn(fixture.core, 'listNamespacedPod');
    fixture.server.store.create(PODS_TYPE, NAMESPACE, {
      metadata: {
        name: 'cat-feeder-3',
        labels: { 'app.kubernetes.io/name': 'cat-feeder', 'app.kubernetes.io/instance': 'catmesh' },
      },
      spec: { containers: [{ name: 'cat-feeder', ports: [{ name: 'grpc', containerPort: 1 }] }] },
      status: { phase: 'Pending' },
    });
    const instances = await mesh().instances();
    expect(spy).toHaveBeenCalledTimes(1);
    expect(instances.map((i) => i.name)).toEqual(MESH_PODS.map(([name]) => name).sort());
    expect(instances.find((i) => i.name === 'cat-feeder-2')).toEqual({
      name: 'cat-feeder-2',
      service: 'cat-feeder',
      address: '10.244.0.12:50051',
      adminAddress: '10.244.0.12:50053',
    });
    expect(instances.find((i) => i.name === 'nats-0')).toEqual({
      name: 'nats-0',
      service: 'nats',
      address: '10.244.0.40:4222',
    });
  });

  it('partitions with one owned, expiring policy per target, then the labels that switch the pods onto it', async () => {
    const request = isolateReplica({ targets: ['cat-feeder-0', 'orders-5d8f7c9b4-x2k7p'] });
    await mesh().networkFaults.apply(request);
    const id = request.id;
    const policies = fixture.stored(POLICIES_TYPE, PARTITION_LABEL);
    expect(policies.map((p) => p.metadata.name).sort()).toEqual([
      `partition-${id}-cat-feeder-0`,
      `partition-${id}-orders-5d8f7c9b4-x2k7p`,
    ]);
    const manifests = manifestPolicies();
    for (const policy of policies) {
      expect(policy.metadata.ownerReferences).toEqual([{ ...fixture.owner, controller: true }]);
      expect(policy.metadata.labels).toEqual({ [EXPERIMENT_LABEL]: RUN, [PARTITION_LABEL]: id });
      expect(policy.metadata['annotations']).toEqual({
        [EXPIRES_AT_ANNOTATION]: '2026-12-07T10:00:30.000Z',
        [FAULT_ID_ANNOTATION]: id,
      });
      // The pod's rules as the chart's policies give them (the other application's and no
      // partition's), minus the peers across: what netpol computes from the manifests.
      const pod = policy.metadata.name.slice(`partition-${id}-`.length);
      const { [PARTITION_LABEL]: _, ...before } = labelsOf(pod);
      expect(policyModel(await readPolicy(policy.metadata.name), NAMESPACE)).toEqual(
        partitionPolicy(manifests, {
          id,
          policyName: policy.metadata.name,
          namespace: NAMESPACE,
          podLabels: before,
          direction: 'both',
        }),
      );
    }
    expect(partitionLabels().sort()).toEqual([
      `cat-feeder-0: ${PARTITION_LABEL}=${id}`,
      `cat-feeder-1: ${PARTITION_PEER_LABEL}=${id}`,
      `cat-feeder-2: ${PARTITION_PEER_LABEL}=${id}`,
      `orders-5d8f7c9b4-x2k7p: ${PARTITION_LABEL}=${id}`,
    ]);
    // The pod keeps its own labels: a merge patch, not a replacement of the label map.
    expect(labelsOf('cat-feeder-1')['app.kubernetes.io/name']).toBe('cat-feeder');
  });

  it('cuts exactly the peers: every pod peer of the partition policy excludes them', async () => {
    const request = isolateReplica();
    await mesh().networkFaults.apply(request);
    const policy = policyModel(await readPolicy(`partition-${request.id}-cat-feeder-0`), NAMESPACE);
    const podPeers = [...policy.ingress, ...policy.egress].flatMap((rule) =>
      (rule.peers ?? []).filter((peer) => peer.ipBlock === undefined),
    );
    expect(podPeers.length).toBeGreaterThan(0);
    for (const peer of podPeers) {
      expect(peer.podSelector?.matchExpressions).toContainEqual({
        key: PARTITION_PEER_LABEL,
        operator: 'NotIn',
        values: [request.id],
      });
    }
    expect(policy.podSelector.matchLabels?.[PARTITION_LABEL]).toBe(request.id);
  });

  it('reverts: labels off, policies gone, the chart’s policies untouched', async () => {
    const kubernetes = mesh();
    const before = fixture
      .stored(POLICIES_TYPE)
      .map((p) => p.metadata.name)
      .sort();
    await kubernetes.networkFaults.apply(isolateReplica());
    expect(partitionPolicies()).toHaveLength(1);
    await kubernetes.networkFaults.revert(isolateReplica().id);
    expect(partitionLabels()).toEqual([]);
    expect(partitionPolicies()).toEqual([]);
    expect(
      fixture
        .stored(POLICIES_TYPE)
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(before);
  });

  it('lets a restarted controller revert by experiment what an earlier one applied', async () => {
    await mesh().networkFaults.apply(isolateReplica());
    const other = isolateReplica({
      id: 'another-run-isolate-inventory',
      experiment: 'another-run',
      targets: ['inventory-6c4d9f8b7-q9w3z'],
      peers: ['orders-5d8f7c9b4-x2k7p'],
    });
    await mesh().networkFaults.apply(other);
    const restarted = mesh();
    expect(await restarted.networkFaults.revertAll(RUN)).toEqual([isolateReplica().id]);
    expect(partitionPolicies()).toEqual([`partition-${other.id}-inventory-6c4d9f8b7-q9w3z`]);
    expect(partitionLabels().sort()).toEqual([
      `inventory-6c4d9f8b7-q9w3z: ${PARTITION_LABEL}=${other.id}`,
      `orders-5d8f7c9b4-x2k7p: ${PARTITION_PEER_LABEL}=${other.id}`,
    ]);
    expect(await restarted.networkFaults.revertAll()).toEqual([other.id]);
    expect(partitionLabels()).toEqual([]);
    expect(partitionPolicies()).toEqual([]);
  });

  it('labels with a digest an id that is no label value, and still reverts it by its id', async () => {
    const id = `${'a-very-long-experiment-name-'.repeat(3)}run-isolate-cat-feeder-0`;
    const kubernetes = mesh();
    await kubernetes.networkFaults.apply(isolateReplica({ id, experiment: id }));
    const [label] = partitionLabels();
    expect(label).toMatch(new RegExp(`^cat-feeder-0: ${PARTITION_LABEL}=p-[0-9a-f]{16}$`));
    expect(await mesh().networkFaults.revertAll(id)).toEqual([id]);
    expect(partitionLabels()).toEqual([]);
    expect(partitionPolicies()).toEqual([]);
  });

  it('refuses pods already in a partition, changing nothing', async () => {
    const kubernetes = mesh();
    await kubernetes.networkFaults.apply(isolateReplica());
    const labels = partitionLabels();
    await expect(
      kubernetes.networkFaults.apply(
        isolateReplica({ id: `${RUN}-second`, targets: ['cat-feeder-1'], peers: ['nats-0'] }),
      ),
    ).rejects.toThrow(
      `partition ${RUN}-second: cat-feeder-1: already in a NetworkPolicy partition`,
    );
    expect(partitionLabels()).toEqual(labels);
    expect(partitionPolicies()).toEqual([`partition-${isolateReplica().id}-cat-feeder-0`]);
  });

  it('undoes the policies and labels it made when a pod cannot be labelled, and names the pod', async () => {
    const patch = fixture.core.patchNamespacedPod.bind(fixture.core);
    vi.spyOn(fixture.core, 'patchNamespacedPod').mockImplementation((param, options) => {
      // The last peer goes between the listing and its label: a real 404 from the API.
      if (param.name === 'cat-feeder-2')
        fixture.server.store.delete(PODS_TYPE, NAMESPACE, 'cat-feeder-2');
      return patch(param, options);
    });
    await expect(mesh().networkFaults.apply(isolateReplica())).rejects.toThrow(
      `partition ${isolateReplica().id}: labelling pod cat-feeder-2: it is gone (undone)`,
    );
    expect(partitionLabels()).toEqual([]);
    expect(partitionPolicies()).toEqual([]);
  });

  /** Changes a pod's labels in the store just before the mesh's first patch of it. */
  function changeBeforePatch(pod: string, labels: Record<string, string>): void {
    const patch = fixture.core.patchNamespacedPod.bind(fixture.core);
    let changed = false;
    vi.spyOn(fixture.core, 'patchNamespacedPod').mockImplementation((param, options) => {
      if (param.name === pod && !changed) {
        changed = true;
        fixture.server.store.patch(PODS_TYPE, NAMESPACE, pod, undefined, MERGE_PATCH, {
          metadata: { labels },
        });
      }
      return patch(param, options);
    });
  }

  it('labels a pod that changed since it was listed once it has checked it again', async () => {
    changeBeforePatch('cat-feeder-1', { 'kubelet-touched': 'yes' });
    await mesh().networkFaults.apply(isolateReplica());
    expect(labelsOf('cat-feeder-1')).toMatchObject({
      'kubelet-touched': 'yes',
      [PARTITION_PEER_LABEL]: isolateReplica().id,
    });
  });

  it('never overwrites the label of a partition that took a pod meanwhile', async () => {
    changeBeforePatch('cat-feeder-1', { [PARTITION_PEER_LABEL]: 'a-concurrent-run' });
    await expect(mesh().networkFaults.apply(isolateReplica())).rejects.toThrow(
      `partition ${isolateReplica().id}: labelling pod cat-feeder-1: it is in another NetworkPolicy partition now (undone)`,
    );
    expect(partitionLabels()).toEqual([`cat-feeder-1: ${PARTITION_PEER_LABEL}=a-concurrent-run`]);
    expect(partitionPolicies()).toEqual([]);
  });

  it('heals without removing a label another partition put on a pod meanwhile', async () => {
    const kubernetes = mesh();
    await kubernetes.networkFaults.apply(isolateReplica());
    changeBeforePatch('cat-feeder-1', { [PARTITION_PEER_LABEL]: 'a-later-run' });
    await kubernetes.networkFaults.revert(isolateReplica().id);
    expect(partitionLabels()).toEqual([`cat-feeder-1: ${PARTITION_PEER_LABEL}=a-later-run`]);
    expect(partitionPolicies()).toEqual([]);
  });

  it('undoes the policies it created when another cannot be created, and names that one', async () => {
    const request = isolateReplica({
      targets: ['cat-feeder-0', 'cat-feeder-1'],
      peers: ['cat-feeder-2'],
    });
    // A name already taken: the second create is refused with 409.
    fixture.server.store.create(POLICIES_TYPE, NAMESPACE, {
      metadata: { name: `partition-${request.id}-cat-feeder-1` },
      spec: { podSelector: {} },
    });
    await expect(mesh().networkFaults.apply(request)).rejects.toThrow(
      `partition ${request.id}: creating NetworkPolicy partition-${request.id}-cat-feeder-1: 409`,
    );
    expect(fixture.stored(POLICIES_TYPE).map((p) => p.metadata.name)).not.toContain(
      `partition-${request.id}-cat-feeder-0`,
    );
    expect(fixture.stored(POLICIES_TYPE).map((p) => p.metadata.name)).toContain(
      `partition-${request.id}-cat-feeder-1`,
    );
    expect(partitionLabels()).toEqual([]);
  });

  it('refuses a pod that is not among the selector’s', async () => {
    await expect(mesh().networkFaults.apply(isolateReplica({ peers: ['web-0'] }))).rejects.toThrow(
      `web-0: not among the pods ${SELECTOR} in namespace ${NAMESPACE}`,
    );
    expect(partitionPolicies()).toEqual([]);
  });

  it('loses its policies with the experiment, and the sweeper frees the pods they held', async () => {
    await mesh().networkFaults.apply(isolateReplica());
    await fixture.custom.deleteNamespacedCustomObject({
      group: EXPERIMENT_GROUP,
      version: 'v1alpha1',
      namespace: NAMESPACE,
      plural: EXPERIMENT_PLURAL,
      name: fixture.owner.name,
    });
    expect(partitionPolicies()).toEqual([]);
    // The garbage collector knows nothing of the labels; without the sweeper the pods would
    // match no allow policy at all.
    expect(partitionLabels()).toHaveLength(3);
    const swept = await sweepPartitions({ ...fixture, namespace: NAMESPACE, now: NOW });
    expect(swept.orphaned.map((o) => o.pod).sort()).toEqual([
      'cat-feeder-0',
      'cat-feeder-1',
      'cat-feeder-2',
    ]);
    expect(partitionLabels()).toEqual([]);
  });

  it('kills by deleting the pod at once, and has nothing to undo', async () => {
    const kubernetes = mesh();
    const remove = vi.spyOn(fixture.core, 'deleteNamespacedPod');
    const record = await kubernetes.processFaults.apply({
      id: `${RUN}-kill-leader-cat-feeder-1`,
      kind: 'kill',
      instance: 'cat-feeder-1',
      durationMs: 10_000,
      experiment: RUN,
      restartAfterMs: 5_000,
    });
    expect(remove).toHaveBeenCalledWith(
      expect.objectContaining({
        name: 'cat-feeder-1',
        namespace: NAMESPACE,
        gracePeriodSeconds: 0,
      }),
    );
    expect(fixture.pod('cat-feeder-1')).toBeUndefined();
    expect(record).toEqual({
      id: `${RUN}-kill-leader-cat-feeder-1`,
      kind: 'kill',
      instance: 'cat-feeder-1',
      experiment: RUN,
      appliedAt: NOW,
      expiresAt: NOW + 10_000,
    });
    expect(await kubernetes.processFaults.list()).toEqual([record]);
    expect(await kubernetes.processFaults.revertAll(RUN)).toEqual([record.id]);
    expect(await kubernetes.processFaults.list()).toEqual([]);
    await expect(
      kubernetes.processFaults.apply({
        id: 'again',
        kind: 'kill',
        instance: 'cat-feeder-1',
        durationMs: 1,
        experiment: RUN,
      }),
    ).rejects.toThrow('killing pod cat-feeder-1: 404 pods "cat-feeder-1" not found');
  });

  it('is refused a process pause by preflight, which names the app mechanism instead', async () => {
    const plan = planExperiment(
      validateExperiment(
        {
          apiVersion: 'catmesh.dev/v1alpha1',
          kind: 'ChaosExperiment',
          metadata: { name: 'pause-inventory' },
          spec: {
            description: 'The inventory process stopped while stock is read, through Kubernetes.',
            workload: { stock: { ratePerSecond: 1 } },
            steadyState: {
              before: '1s',
              after: '1s',
              hypothesis: [{ sli: 'stock.successRatio', atLeast: 0.5 }],
            },
            steps: [
              {
                name: 'pause',
                mechanism: 'process',
                fault: { kind: 'pause' },
                target: { service: 'inventory' },
                duration: '1s',
              },
            ],
          },
        },
        'test',
      ),
    );
    // Only inventory: preflight would otherwise ask the cat-feeder replicas for their roles.
    const inventory = mesh(`${SELECTOR},app.kubernetes.io/name=inventory`);
    await expect(preflight(plan, inventory)).rejects.toThrow(
      `spec.steps[0] (pause): the process mechanism cannot pause on ${inventory.description} (it can: kill); use mechanism: app`,
    );
  });
});

async function readPolicy(name: string) {
  const { items } = await fixture.networking.listNamespacedNetworkPolicy({
    namespace: NAMESPACE,
    fieldSelector: `metadata.name=${name}`,
  });
  const [policy] = items;
  if (policy === undefined) throw new Error(`no NetworkPolicy ${name}`);
  return policy;
}
