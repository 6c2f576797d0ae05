import { faultsV1 } from '@catmesh/proto';
import type { TrafficRequest } from '@catmesh/runtime';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { AppTrafficGate, FaultTable, FaultValidationError } from '@catmesh/faults';

const { Direction, Transport } = faultsV1;

function fault(overrides: Partial<faultsV1.Fault> = {}): faultsV1.Fault {
  return {
    id: 'f1',
    kind: { $case: 'partition', value: {} },
    expiresAtUnixMs: Date.now() + 60_000,
    peers: [],
    direction: Direction.DIRECTION_UNSPECIFIED,
    transports: [],
    experiment: 'exp',
    ...overrides,
  };
}

function request(overrides: Partial<TrafficRequest> = {}): TrafficRequest {
  return {
    transport: 'grpc',
    direction: 'outbound',
    peer: { service: 'inventory', instance: 'inventory-1', raftId: 0 },
    operation: '/catmesh.inventory.v1.InventoryService/GetStock',
    bytes: 10,
    span: undefined,
    ...overrides,
  };
}

function fieldOf(apply: () => unknown): string {
  try {
    apply();
  } catch (error) {
    if (error instanceof FaultValidationError) return error.field;
    throw error;
  }
  throw new Error('no validation error');
}

const tables: FaultTable[] = [];
function table(): FaultTable {
  const t = new FaultTable();
  tables.push(t);
  return t;
}

afterEach(() => {
  for (const t of tables.splice(0)) t.revertAll();
  vi.useRealTimers();
});

describe('the app fault table', () => {
  it('names the field of each bad request and applies nothing', () => {
    const t = table();
    const cases: [Partial<faultsV1.Fault> | undefined, string][] = [
      [undefined, 'fault'],
      [{ id: '' }, 'fault.id'],
      [{ kind: undefined }, 'fault.kind'],
      [
        { kind: { $case: 'latency', value: { delayMs: 0, jitterMs: 0, distribution: 0 } } },
        'fault.latency.delay_ms',
      ],
      [
        {
          kind: {
            $case: 'latency',
            value: { delayMs: 10, jitterMs: 5, distribution: 9 as faultsV1.Distribution },
          },
        },
        'fault.latency.distribution',
      ],
      [{ kind: { $case: 'loss', value: { probability: 0 } } }, 'fault.loss.probability'],
      [{ kind: { $case: 'reject', value: { probability: 1.5 } } }, 'fault.reject.probability'],
      [
        { kind: { $case: 'bandwidth', value: { bytesPerSecond: 0 } } },
        'fault.bandwidth.bytes_per_second',
      ],
      [{ kind: { $case: 'pause', value: { pauseMs: 0, everyMs: 0 } } }, 'fault.pause.pause_ms'],
      [{ kind: { $case: 'pause', value: { pauseMs: 50, everyMs: 20 } } }, 'fault.pause.every_ms'],
      [{ expiresAtUnixMs: 0 }, 'fault.expires_at_unix_ms'],
      [{ expiresAtUnixMs: Date.now() - 1 }, 'fault.expires_at_unix_ms'],
      [{ direction: 7 as faultsV1.Direction }, 'fault.direction'],
      [
        { transports: [Transport.TRANSPORT_GRPC, Transport.TRANSPORT_UNSPECIFIED] },
        'fault.transports[1]',
      ],
      [{ peers: [{ service: 'x', instance: '', raftId: -1 }] }, 'fault.peers[0].raft_id'],
    ];
    for (const [overrides, field] of cases) {
      expect(fieldOf(() => t.apply(overrides && fault(overrides)))).toBe(field);
    }
    expect(t.active).toHaveLength(0);
  });

  it('says a past expiry is in the past', () => {
    expect(() => table().apply(fault({ expiresAtUnixMs: Date.now() - 1000 }))).toThrow(
      /fault\.expires_at_unix_ms: in the past/,
    );
  });

  it('replaces a fault with the same id and reverts by experiment', () => {
    const t = table();
    t.apply(fault({ id: 'a', experiment: 'one' }));
    t.apply(
      fault({ id: 'a', experiment: 'one', kind: { $case: 'loss', value: { probability: 1 } } }),
    );
    t.apply(fault({ id: 'b', experiment: 'two' }));
    expect(t.active.map((e) => [e.fault.id, e.fault.effect.kind])).toEqual([
      ['a', 'loss'],
      ['b', 'partition'],
    ]);
    expect(t.revertAll('two')).toEqual(['b']);
    expect(t.revert('b')).toBe(false);
    expect(t.revert('a')).toBe(true);
    expect(t.active).toHaveLength(0);
  });

  it('ends a fault at its expiry on its own', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const ended: string[] = [];
    const t = new FaultTable({ onEnd: (f, reason) => ended.push(`${f.id}:${reason}`) });
    t.apply(fault({ expiresAtUnixMs: Date.now() + 5_000 }));
    vi.advanceTimersByTime(4_999);
    expect(t.active).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(t.active).toHaveLength(0);
    expect(ended).toEqual(['f1:expired']);
  });
});

describe('the app traffic gate', () => {
  it('is unarmed with no fault and delivers', () => {
    const gate = new AppTrafficGate({ table: table() });
    expect(gate.armed).toBe(false);
    expect(gate.decide(request())).toEqual({ action: 'deliver' });
  });

  it('matches peers by service, instance, raft id, or everything with an empty selector', () => {
    const t = table();
    const gate = new AppTrafficGate({ table: t });
    const drops = (peers: faultsV1.PeerSelector[], r: TrafficRequest) => {
      t.revertAll();
      t.apply(fault({ peers }));
      return gate.decide(r).action === 'drop';
    };
    const sel = (service: string, instance = '', raftId = 0) => ({ service, instance, raftId });
    expect(drops([sel('inventory')], request())).toBe(true);
    expect(drops([sel('orders')], request())).toBe(false);
    expect(drops([sel('inventory', 'inventory-2')], request())).toBe(false);
    expect(drops([sel('', '', 0)], request({ peer: undefined }))).toBe(true);
    expect(drops([sel('inventory')], request({ peer: undefined }))).toBe(false);
    const raft = request({
      transport: 'raft',
      peer: { service: 'cat-feeder', instance: '', raftId: 2 },
    });
    expect(drops([sel('cat-feeder', 'cat-feeder-2', 2)], raft)).toBe(true);
    expect(drops([sel('cat-feeder', '', 3)], raft)).toBe(false);
    expect(drops([sel('cat-feeder', 'cat-feeder-2')], raft)).toBe(false);
    const delivered = request({
      transport: 'nats',
      direction: 'inbound',
      peer: sel('orders', 'orders'),
    });
    expect(drops([sel('nats')], delivered)).toBe(true);
    expect(drops([sel('orders')], delivered)).toBe(true);
    expect(drops([sel('inventory')], delivered)).toBe(false);
  });

  it('keeps to its direction and transports', () => {
    const t = table();
    const gate = new AppTrafficGate({ table: t });
    t.apply(
      fault({ direction: Direction.DIRECTION_INBOUND, transports: [Transport.TRANSPORT_NATS] }),
    );
    expect(gate.decide(request({ transport: 'nats', direction: 'inbound' })).action).toBe('drop');
    expect(gate.decide(request({ transport: 'nats', direction: 'outbound' })).action).toBe(
      'deliver',
    );
    expect(gate.decide(request({ transport: 'grpc', direction: 'inbound' })).action).toBe(
      'deliver',
    );
  });

  it('rejects, adds up delays and counts what it did', () => {
    const t = table();
    const gate = new AppTrafficGate({ table: t });
    t.apply(
      fault({
        id: 'lat',
        kind: { $case: 'latency', value: { delayMs: 40, jitterMs: 0, distribution: 0 } },
      }),
    );
    t.apply(fault({ id: 'bw', kind: { $case: 'bandwidth', value: { bytesPerSecond: 1000 } } }));
    // 500 bytes at 1000 B/s: half a second on the link, plus the fixed 40 ms.
    expect(gate.decide(request({ bytes: 500 }))).toEqual({ action: 'delay', delayMs: 540 });
    t.apply(fault({ id: 'rej', kind: { $case: 'reject', value: { probability: 0 } } }));
    expect(gate.decide(request())).toEqual({ action: 'reject', reason: 'rejected by fault rej' });
    expect(t.active.map((e) => [e.fault.id, e.injections])).toEqual([
      ['lat', 1],
      ['bw', 1],
      ['rej', 1],
    ]);
  });

  it('blocks the event loop for a pause', async () => {
    const t = table();
    t.apply(fault({ kind: { $case: 'pause', value: { pauseMs: 300, everyMs: 0 } } }));
    const before = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await vi.waitFor(() => expect(t.active[0]?.injections).toBe(1));
    expect(performance.now() - before).toBeGreaterThanOrEqual(300);
  });
});
