import { describe, expect, it } from 'vitest';
import { TraceStore } from '../src/trace-store.js';

const ms = (value: number) => String(BigInt(value) * 1_000_000n);

function exportOf(
  service: string,
  instance: string,
  spans: { id: string; parent?: string; name: string; kind?: number; start: number; end: number }[],
  traceId = 'trace-1',
) {
  return {
    resourceSpans: [
      {
        resource: {
          attributes: [
            { key: 'service.name', value: { stringValue: service } },
            { key: 'service.instance.id', value: { stringValue: instance } },
          ],
        },
        scopeSpans: [
          {
            spans: spans.map((span) => ({
              traceId,
              spanId: span.id,
              parentSpanId: span.parent ?? '',
              name: span.name,
              kind: span.kind ?? 1,
              startTimeUnixNano: ms(span.start),
              endTimeUnixNano: ms(span.end),
            })),
          },
        ],
      },
    ],
  };
}

describe('the trace store', () => {
  it("lists orders by their PlaceOrder span and builds each one's span tree across processes", () => {
    const store = new TraceStore();
    store.add(
      exportOf('orders', 'orders', [
        {
          id: 'a',
          name: 'catmesh.orders.v1.OrderService/PlaceOrder',
          kind: 2,
          start: 1_000,
          end: 1_040,
        },
        { id: 'b', parent: 'a', name: 'Reserve', kind: 3, start: 1_005, end: 1_010 },
      ]),
    );
    for (const replica of [1, 2, 3]) {
      store.add(
        exportOf('cat-feeder', `cat-feeder-${replica}`, [
          {
            id: `apply-${replica}`,
            parent: 'b',
            name: 'catfeeder.apply',
            start: 1_020,
            end: 1_021,
          },
        ]),
      );
    }
    expect(store.recentOrders(10)).toEqual([
      { traceId: 'trace-1', startedAtMs: 1_000, durationMs: 40, spans: 5 },
    ]);
    const [root] = store.tree('trace-1')!;
    expect(root).toMatchObject({
      name: 'catmesh.orders.v1.OrderService/PlaceOrder',
      durationMs: 40,
    });
    expect(root!.children[0]!.children.map((span) => span.instance)).toEqual([
      'cat-feeder-1',
      'cat-feeder-2',
      'cat-feeder-3',
    ]);
    expect(store.tree('nope')).toBeUndefined();
  });

  it('lists an order only once its trace has had no new span for the settle time', () => {
    let now = 10_000;
    const store = new TraceStore(() => now);
    const placeOrder = {
      id: 'a',
      name: 'catmesh.orders.v1.OrderService/PlaceOrder',
      kind: 2,
      start: 9_000,
      end: 9_040,
    };
    store.add(exportOf('orders', 'orders', [placeOrder]));
    expect(store.recentOrders(10, 2_000)).toEqual([]);
    // A replica's batch arrives 1.5 s later: the wait starts again from it.
    now += 1_500;
    store.add(
      exportOf('cat-feeder', 'cat-feeder-1', [
        { id: 'apply', parent: 'a', name: 'catfeeder.apply', start: 9_020, end: 9_021 },
      ]),
    );
    now += 1_999;
    expect(store.recentOrders(10, 2_000)).toEqual([]);
    now += 1;
    expect(store.recentOrders(10, 2_000)).toEqual([
      { traceId: 'trace-1', startedAtMs: 9_000, durationMs: 40, spans: 2 },
    ]);
  });

  it('keeps a bounded number of traces, dropping the oldest', () => {
    const store = new TraceStore();
    for (let i = 0; i < 3_000; i += 1) {
      store.add(
        exportOf('orders', 'orders', [{ id: 's', name: 'x', start: i, end: i + 1 }], `t${i}`),
      );
    }
    expect(store.tree('t0')).toBeUndefined();
    expect(store.tree('t2999')).toHaveLength(1);
  });

  it('refuses a body that is not an export, and skips spans without ids or times', () => {
    const store = new TraceStore();
    expect(() => store.add('text')).toThrow();
    expect(store.add({ resourceSpans: [{ scopeSpans: [{ spans: [{ name: 'no ids' }] }] }] })).toBe(
      0,
    );
  });
});
