// The sweeper against the fake API server: partitions end at their expiry whoever made them,
// an unreadable expiry ends a partition at once, and a pod label whose policies are gone is
// removed, since a labelled pod matches none of the chart's allow policies.
import { PARTITION_LABEL, PARTITION_PEER_LABEL } from '@catmesh/netpol';
import { MERGE_PATCH } from '@catmesh/testkit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { KubernetesMesh } from '../src/kubernetes-mesh.js';
import { EXPIRES_AT_ANNOTATION } from '../src/partition-objects.js';
import {
  runPartitionSweeper,
  sweepPartitions,
  type SweepResult,
} from '../src/partition-sweeper.js';
import {
  NAMESPACE,
  PODS_TYPE,
  POLICIES_TYPE,
  SELECTOR,
  startMeshFixture,
  type MeshFixture,
} from './mesh-fixture.js';

const APPLIED = Date.parse('2026-12-07T10:00:00.000Z');
const ID = 'run-1-isolate-cat-feeder-0';

let fixture: MeshFixture;

beforeEach(async () => {
  fixture = await startMeshFixture();
  await new KubernetesMesh({
    core: fixture.core,
    networking: fixture.networking,
    namespace: NAMESPACE,
    podSelector: SELECTOR,
    owner: fixture.owner,
    now: () => APPLIED,
  }).networkFaults.apply({
    id: ID,
    mechanism: 'networkpolicy',
    targets: ['cat-feeder-0'],
    peers: ['cat-feeder-1', 'cat-feeder-2'],
    direction: 'both',
    durationMs: 30_000,
    experiment: 'run-1',
  });
});

afterEach(async () => {
  await fixture.close();
});

function sweep(now: number): Promise<SweepResult> {
  return sweepPartitions({
    core: fixture.core,
    networking: fixture.networking,
    namespace: NAMESPACE,
    now,
  });
}

function partitionLabels(): string[] {
  return fixture.stored(PODS_TYPE).flatMap((pod) =>
    Object.entries(pod.metadata.labels ?? {})
      .filter(([key]) => key === PARTITION_LABEL || key === PARTITION_PEER_LABEL)
      .map(([key, value]) => `${pod.metadata.name}: ${key}=${value}`),
  );
}

const partitionPolicies = (): string[] =>
  fixture.stored(POLICIES_TYPE, PARTITION_LABEL).map((policy) => policy.metadata.name);

/** Rewrites the expiry annotation of the partition's policy, as another writer could. */
function setExpiry(value: string | undefined): void {
  const [policy] = fixture.stored(POLICIES_TYPE, PARTITION_LABEL);
  if (policy === undefined) throw new Error('no partition policy');
  const { [EXPIRES_AT_ANNOTATION]: _, ...others } = (policy.metadata['annotations'] ??
    {}) as Record<string, string>;
  fixture.server.store.replace(POLICIES_TYPE, NAMESPACE, policy.metadata.name, {
    ...policy,
    metadata: {
      ...policy.metadata,
      annotations: value === undefined ? others : { ...others, [EXPIRES_AT_ANNOTATION]: value },
    },
  });
}

describe('sweepPartitions', () => {
  it('leaves a partition alone until its expiry', async () => {
    expect(await sweep(APPLIED + 29_999)).toEqual({ expired: [], orphaned: [] });
    expect(partitionPolicies()).toEqual([`partition-${ID}-cat-feeder-0`]);
    expect(partitionLabels()).toHaveLength(3);
  });

  it('ends a partition at its expiry: the pods unlabelled, then its policies deleted', async () => {
    const result = await sweep(APPLIED + 30_000);
    expect(result.orphaned).toEqual([]);
    expect(result.expired).toHaveLength(1);
    expect(result.expired[0]).toEqual({
      partition: ID,
      policies: [`partition-${ID}-cat-feeder-0`],
      pods: expect.arrayContaining(['cat-feeder-0', 'cat-feeder-1', 'cat-feeder-2']) as unknown,
    });
    expect(result.expired[0]?.pods).toHaveLength(3);
    expect(partitionPolicies()).toEqual([]);
    expect(partitionLabels()).toEqual([]);
    // The chart's policies are none of its business.
    expect(fixture.stored(POLICIES_TYPE).length).toBe(9);
  });

  it.each([
    ['an unreadable', 'tomorrow'],
    ['no', undefined],
  ])('ends a partition with %s expiry at once, and says so', async (_, value) => {
    setExpiry(value);
    const result = await sweep(APPLIED);
    expect(result.expired.map((e) => [e.partition, e.malformedExpiry])).toEqual([
      [ID, value ?? '(none)'],
    ]);
    expect(partitionPolicies()).toEqual([]);
    expect(partitionLabels()).toEqual([]);
  });

  it('removes a partition label whose partition has no policy left, and only that', async () => {
    fixture.server.store.patch(PODS_TYPE, NAMESPACE, 'nats-0', undefined, MERGE_PATCH, {
      metadata: { labels: { [PARTITION_PEER_LABEL]: 'gone-partition' } },
    });
    const result = await sweep(APPLIED);
    expect(result).toEqual({
      expired: [],
      orphaned: [{ pod: 'nats-0', label: PARTITION_PEER_LABEL, partition: 'gone-partition' }],
    });
    expect(fixture.pod('nats-0')?.metadata.labels).not.toHaveProperty(PARTITION_PEER_LABEL);
    expect(fixture.pod('nats-0')?.metadata.labels).toHaveProperty('app.kubernetes.io/name', 'nats');
    // The partition in force keeps its pods.
    expect(partitionLabels()).toHaveLength(3);
  });
});

describe('runPartitionSweeper', () => {
  it('sweeps every interval until stopped, reporting what it did and what failed', async () => {
    const swept: SweepResult[] = [];
    const errors: unknown[] = [];
    let now = APPLIED;
    const list = fixture.networking.listNamespacedNetworkPolicy.bind(fixture.networking);
    vi.spyOn(fixture.networking, 'listNamespacedNetworkPolicy')
      .mockRejectedValueOnce(new Error('connection refused'))
      .mockImplementation((param, options) => list(param, options));
    const stop = new AbortController();
    const running = runPartitionSweeper({
      core: fixture.core,
      networking: fixture.networking,
      namespace: NAMESPACE,
      intervalMs: 10,
      signal: stop.signal,
      onSweep: (result) => swept.push(result),
      onError: (error) => errors.push(error),
      now: () => now,
    });
    await vi.waitFor(() => expect(errors).toEqual([new Error('connection refused')]));
    // Quiet sweeps report nothing; the one after the expiry reports the partition it ended.
    expect(swept).toEqual([]);
    now = APPLIED + 30_000;
    await vi.waitFor(() => expect(swept).toHaveLength(1), { timeout: 10_000 });
    expect(swept[0]?.expired.map((e) => e.partition)).toEqual([ID]);
    stop.abort();
    await running;
    expect(partitionPolicies()).toEqual([]);
  });
});
