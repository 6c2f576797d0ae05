// One order is one trace (ARCHITECTURE.md rule 6): from the customer's call through
// inventory.Reserve, the JetStream publish and consume, Commit and the cat-feeder write.
import { SpanKind, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ordersV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import {
  installTestTracing,
  startNatsServer,
  type NatsServer,
  type TestTracing,
} from '@catmesh/testkit';
import {
  startInventoryReplica,
  type InventoryReplica,
} from '../../inventory/test/support/inventory-harness.js';
import { startCatFeederDouble, type CatFeederDouble } from './support/cat-feeder-double.js';
import { startOrdersReplica, type OrdersReplica } from './support/orders-harness.js';

type ReadableSpan = ReturnType<TestTracing['spans']>[number];

const tracing = installTestTracing();
let nats: NatsServer;
let inventory: InventoryReplica;
let catFeeder: CatFeederDouble;
let orders: OrdersReplica;

beforeAll(async () => {
  nats = await startNatsServer();
  inventory = await startInventoryReplica(nats.url);
  catFeeder = await startCatFeederDouble();
  orders = await startOrdersReplica(nats.url, {
    inventoryAddress: inventory.address,
    catFeederEndpoints: [catFeeder.address],
  });
  await callUnary(inventory.client, 'restock', { sku: 'kibble', quantity: 5, restockId: 'r1' });
});
afterAll(async () => {
  await orders?.stop();
  await inventory?.stop();
  await catFeeder?.stop();
  await nats?.dispose();
  await tracing.shutdown();
});

const PUT = 'catmesh.catfeeder.v1.CatFeederService/Put';
const RESERVE = 'catmesh.inventory.v1.InventoryService/Reserve';
const COMMIT = 'catmesh.inventory.v1.InventoryService/Commit';
const PLACE = 'catmesh.orders.v1.OrderService/PlaceOrder';

/** `span`, its parent, its parent's parent... as "name (KIND)", up to the root. */
function ancestry(span: ReadableSpan, spans: readonly ReadableSpan[]): string[] {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s] as const));
  const chain: string[] = [];
  for (let s: ReadableSpan | undefined = span; s;) {
    chain.push(`${s.name} (${SpanKind[s.kind]})`);
    const parentId: string | undefined = s.parentSpanContext?.spanId;
    s = parentId ? byId.get(parentId) : undefined;
    if (parentId && !s) chain.push(`missing parent ${parentId}`);
  }
  return chain;
}

describe('one order, one trace', () => {
  it('links PlaceOrder, Reserve, the ORDERS stream, Commit and the cat-feeder Put', async () => {
    const order = await trace.getTracer('test').startActiveSpan('customer', async (span) => {
      try {
        return (
          await callUnary(orders.client, 'placeOrder', {
            idempotencyKey: 'traced',
            customer: 'ada',
            sku: 'kibble',
            quantity: 1,
          })
        ).order!;
      } finally {
        span.end();
      }
    });
    // Spans end in their own time (a CONSUMER span after the handler's acks, say): wait for the
    // last of each kind this test looks at.
    const spans = await tracing.waitForSpans((all) => {
      const has = (name: string, kind: SpanKind, messageId?: string) =>
        all.some(
          (s) =>
            s.name === name &&
            s.kind === kind &&
            (messageId === undefined || s.attributes['messaging.message.id'] === messageId),
        );
      return (
        has('process orders.reserved', SpanKind.CONSUMER, `${order.id}:reserved`) &&
        has('publish orders.fulfilled', SpanKind.PRODUCER, `${order.id}:fulfilled`) &&
        has(PLACE, SpanKind.SERVER) &&
        has(PUT, SpanKind.SERVER) &&
        has(COMMIT, SpanKind.SERVER)
      );
    });
    const root = spans.find((s) => s.name === 'customer')!;
    const traceId = root.spanContext().traceId;
    const inTrace = spans.filter((s) => s.spanContext().traceId === traceId);
    const only = (name: string, kind: SpanKind) => {
      const found = inTrace.filter((s) => s.name === name && s.kind === kind);
      expect(found, `${name} (${SpanKind[kind]}) in the trace`).toHaveLength(1);
      return found[0]!;
    };

    expect(ancestry(only(PUT, SpanKind.SERVER), inTrace)).toEqual([
      `${PUT} (SERVER)`,
      `${PUT} (CLIENT)`,
      'process orders.reserved (CONSUMER)',
      'publish orders.reserved (PRODUCER)',
      `${PLACE} (SERVER)`,
      `${PLACE} (CLIENT)`,
      'customer (INTERNAL)',
    ]);
    expect(ancestry(only(RESERVE, SpanKind.SERVER), inTrace)).toEqual([
      `${RESERVE} (SERVER)`,
      `${RESERVE} (CLIENT)`,
      `${PLACE} (SERVER)`,
      `${PLACE} (CLIENT)`,
      'customer (INTERNAL)',
    ]);
    expect(ancestry(only(COMMIT, SpanKind.SERVER), inTrace).slice(0, 3)).toEqual([
      `${COMMIT} (SERVER)`,
      `${COMMIT} (CLIENT)`,
      'process orders.reserved (CONSUMER)',
    ]);
    expect(ancestry(only('publish orders.fulfilled', SpanKind.PRODUCER), inTrace)[1]).toBe(
      'process orders.reserved (CONSUMER)',
    );
    expect(ancestry(only('publish orders.pending', SpanKind.PRODUCER), inTrace)[1]).toBe(
      `${PLACE} (SERVER)`,
    );
    const stored = await callUnary(orders.client, 'getOrder', { id: order.id });
    expect(stored.order?.state).toBe(ordersV1.OrderState.ORDER_STATE_FULFILLED);
  });
});
