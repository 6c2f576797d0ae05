import { describe, expect, it } from 'vitest';
import { buildSnapshot, type SnapshotInputs } from '../src/snapshot-builder.js';

const up = (source: string) => ({ source, up: true, checkedAtMs: 1 });
const rates = (services: Record<string, number>) => ({
  requestsPerSecond: 10,
  errorsPerSecond: 0,
  clientCalls: new Map(
    Object.entries(services).map(([service, perSecond]) => [
      service,
      { requestsPerSecond: perSecond, errorsPerSecond: 0 },
    ]),
  ),
});

function inputs(): SnapshotInputs {
  return {
    nowMs: 5_000,
    instances: [
      {
        name: 'loadgen',
        service: 'loadgen',
        metrics: up('loadgen /metrics'),
        rates: rates({ 'catmesh.orders.v1.OrderService': 10 }),
      },
      {
        name: 'inventory',
        service: 'inventory',
        metrics: {
          source: 'inventory /metrics',
          up: false,
          reason: 'connect ECONNREFUSED 127.0.0.1:9201',
          checkedAtMs: 4_900,
        },
      },
      {
        name: 'orders',
        service: 'orders',
        metrics: up('orders /metrics'),
        rates: rates({
          'catmesh.inventory.v1.InventoryService': 0,
          'catmesh.catfeeder.v1.CatFeederService': 9,
        }),
      },
    ],
    replicas: [1, 2, 3].map((id) => ({
      id,
      name: `cat-feeder-${id}`,
      status: up(`cat-feeder-${id} Status`),
      role: id === 2 ? 'leader' : 'follower',
      term: 7,
      leaderId: 2,
      commitIndex: 40,
      appliedIndex: 40,
    })),
    timeline: [{ kind: 'leader', atMs: 1_000, term: 7, leaderId: 2 }],
    raftPolledAtMs: 4_990,
    faultSources: [
      {
        status: up('orders fault admin'),
        faults: [
          {
            instance: 'orders',
            id: 'slow-inventory',
            kind: 'latency',
            detail: '200ms delay',
            peers: ['inventory'],
            experiment: 'latency-is-zero',
            expiresAtMs: 65_000,
          },
        ],
      },
      {
        status: {
          source: 'inventory fault admin',
          up: false,
          reason: '14 UNAVAILABLE: connect ECONNREFUSED',
        },
        faults: [],
      },
    ],
    slis: { source: up('loadgen /metrics'), windowSeconds: 120, orders: 0 },
    catState: { source: up('cat.state'), value: 'full', readFrom: 'cat-feeder-1' },
    orders: [],
  };
}

describe('the snapshot', () => {
  it('shows a source that is down as down with its reason, and everything else as it is', () => {
    const snapshot = buildSnapshot(inputs());
    const inventory = snapshot.instances.find((instance) => instance.name === 'inventory')!;
    expect(inventory.metrics).toMatchObject({
      up: false,
      reason: 'connect ECONNREFUSED 127.0.0.1:9201',
    });
    expect(inventory).not.toHaveProperty('requestsPerSecond');
    expect(snapshot.raft.leaderId).toBe(2);
    expect(snapshot.raft.replicas).toHaveLength(3);
    expect(snapshot.catState.value).toBe('full');
    expect(snapshot.faults.sources.map((source) => source.up)).toEqual([true, false]);
  });

  it('draws the service graph with its rates and puts a fault on the path it acts on', () => {
    const snapshot = buildSnapshot(inputs());
    const edge = (from: string, to: string) =>
      snapshot.edges.find((e) => e.from === from && e.to === to);
    expect(edge('loadgen', 'orders')).toMatchObject({ requestsPerSecond: 10, faultIds: [] });
    expect(edge('orders', 'inventory')).toMatchObject({ faultIds: ['slow-inventory'] });
    expect(edge('orders', 'cat-feeder')).toMatchObject({ requestsPerSecond: 9, faultIds: [] });
    // Raft's own paths: every pair of replicas.
    expect(snapshot.edges.filter((e) => e.from.startsWith('cat-feeder-'))).toHaveLength(3);
  });

  it('has no leader while no replica answers as one', () => {
    const base = inputs();
    const snapshot = buildSnapshot({
      ...base,
      replicas: base.replicas.map((replica) =>
        replica.id === 2
          ? {
              id: 2,
              name: 'cat-feeder-2',
              status: { source: 'cat-feeder-2 Status', up: false, reason: 'deadline' },
            }
          : replica,
      ),
    });
    expect(snapshot.raft).not.toHaveProperty('leaderId');
  });
});
