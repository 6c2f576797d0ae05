import { status, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inventoryV1, ordersV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { freePort, startNatsServer, type NatsServer } from '@catmesh/testkit';
import {
  startInventoryReplica,
  type InventoryReplica,
} from '../../inventory/test/support/inventory-harness.js';
import { encodeRecord, newOrderRecord, withState } from '../src/order-record.js';
import { newOrderId } from '../src/order-ids.js';
import { startCatFeederDouble, type CatFeederDouble } from './support/cat-feeder-double.js';
import { orderEventsOf } from './support/order-events.js';
import { startOrdersReplica, type OrdersReplica } from './support/orders-harness.js';

const { OrderState } = ordersV1;

let nats: NatsServer;
let inventory: InventoryReplica;
let catFeeder: CatFeederDouble;
let orders: OrdersReplica;
let keys = 0;

beforeAll(async () => {
  nats = await startNatsServer();
  inventory = await startInventoryReplica(nats.url);
  catFeeder = await startCatFeederDouble();
  orders = await startOrdersReplica(nats.url, {
    inventoryAddress: inventory.address,
    // The first endpoint has nothing behind it: the client moves on to the next.
    catFeederEndpoints: [`127.0.0.1:${await freePort()}`, catFeeder.address],
    hungerAfterMs: 60_000,
  });
  await restock('kibble', 100);
});
afterAll(async () => {
  await orders?.stop();
  await inventory?.stop();
  await catFeeder?.stop();
  await nats?.dispose();
});

async function restock(sku: string, quantity: number): Promise<void> {
  await callUnary(inventory.client, 'restock', { sku, quantity, restockId: `${sku}-${quantity}` });
}

const place = (request: Partial<ordersV1.PlaceOrderRequest> = {}) =>
  callUnary(orders.client, 'placeOrder', {
    idempotencyKey: `key-${++keys}`,
    customer: 'ada',
    sku: 'kibble',
    quantity: 1,
    ...request,
  }).then((response) => response.order!);

const getOrder = async (id: string) => (await callUnary(orders.client, 'getOrder', { id })).order!;

/** Waits until the order reaches `state` (the timeout is a safety net, not a speed test). */
const reaches = (id: string, state: ordersV1.OrderState) =>
  vi.waitFor(
    async () => {
      const order = await getOrder(id);
      if (order.state !== state) {
        throw new Error(`order ${id} is ${ordersV1.orderStateToJSON(order.state)}`);
      }
      return order;
    },
    { timeout: 30_000, interval: 20 },
  );

async function failure(call: Promise<unknown>): Promise<{ code: status; details: string }> {
  try {
    await call;
  } catch (error) {
    const { code, details } = error as ServiceError;
    return { code, details };
  }
  throw new Error('the call succeeded');
}

describe('orders', () => {
  it('reserves, then fulfils through the stream, feeding the cat; each change is an event', async () => {
    const placed = await place({ quantity: 2 });
    expect(placed).toMatchObject({ state: OrderState.ORDER_STATE_RESERVED, quantity: 2 });
    const fulfilled = await reaches(placed.id, OrderState.ORDER_STATE_FULFILLED);
    expect(fulfilled.updatedAtUnixMs).toBeGreaterThanOrEqual(placed.updatedAtUnixMs);

    // The event of a change goes out just after the change is stored.
    const events = await vi.waitFor(
      async () => {
        const stored = await orderEventsOf(orders.nats.connection, placed.id);
        expect(stored.map((e) => e.subject)).toEqual([
          'orders.pending',
          'orders.reserved',
          'orders.fulfilled',
        ]);
        return stored;
      },
      { timeout: 10_000, interval: 20 },
    );
    expect(events.map((e) => e.msgId)).toEqual([
      `${placed.id}:pending`,
      `${placed.id}:reserved`,
      `${placed.id}:fulfilled`,
    ]);
    expect(events.map((e) => [e.event.previousState, e.event.order?.state])).toEqual([
      [OrderState.ORDER_STATE_UNSPECIFIED, OrderState.ORDER_STATE_PENDING],
      [OrderState.ORDER_STATE_PENDING, OrderState.ORDER_STATE_RESERVED],
      [OrderState.ORDER_STATE_RESERVED, OrderState.ORDER_STATE_FULFILLED],
    ]);
    expect(events[0]!.messageType).toBe('catmesh.orders.v1.OrderEvent');

    expect(catFeeder.value('cat.state')).toBe('full');
    expect(catFeeder.writes).toContainEqual(
      expect.objectContaining({
        key: 'cat.state',
        value: 'full',
        requestId: `orders/feed/${placed.id}#1`,
      }),
    );
    const reservation = await callUnary(inventory.client, 'reserve', {
      orderId: placed.id,
      sku: 'kibble',
      quantity: 2,
    });
    expect(reservation.reservation?.state).toBe(
      inventoryV1.ReservationState.RESERVATION_STATE_COMMITTED,
    );
  });

  it('rejects an order when the stock is short, and an unknown SKU the same way', async () => {
    await restock('tuna', 1);
    const short = await place({ sku: 'tuna', quantity: 2 });
    expect(short).toMatchObject({
      state: OrderState.ORDER_STATE_REJECTED,
      failureReason: 'out of stock',
    });
    const unknown = await place({ sku: 'unicorn' });
    expect(unknown).toMatchObject({
      state: OrderState.ORDER_STATE_REJECTED,
      failureReason: 'unknown sku unicorn',
    });
    const events = await orderEventsOf(orders.nats.connection, short.id);
    expect(events.map((e) => e.subject)).toEqual(['orders.pending', 'orders.rejected']);
    expect((await callUnary(inventory.client, 'getStock', { sku: 'tuna' })).stock).toMatchObject({
      available: 1,
      reserved: 0,
    });
  });

  it('one idempotency key is one order, asked in turn or all at once', async () => {
    await restock('salmon', 50);
    const first = await place({ idempotencyKey: 'same-key', sku: 'salmon', quantity: 3 });
    const again = await place({ idempotencyKey: 'same-key', sku: 'salmon', quantity: 3 });
    expect(again.id).toBe(first.id);

    const together = await Promise.all(
      Array.from({ length: 10 }, () =>
        place({ idempotencyKey: 'crowded-key', sku: 'salmon', quantity: 5 }),
      ),
    );
    expect(new Set(together.map((o) => o.id)).size).toBe(1);
    await reaches(first.id, OrderState.ORDER_STATE_FULFILLED);
    await reaches(together[0]!.id, OrderState.ORDER_STATE_FULFILLED);
    // 3 + 5 units sold, once each.
    expect((await callUnary(inventory.client, 'getStock', { sku: 'salmon' })).stock).toMatchObject({
      available: 42,
      reserved: 0,
      committed: 8,
    });
    const listed = await callUnary(orders.client, 'listOrders', {
      pageSize: 500,
      pageToken: '',
      state: OrderState.ORDER_STATE_UNSPECIFIED,
    });
    expect(listed.orders.filter((o) => o.idempotencyKey === 'crowded-key')).toHaveLength(1);

    expect(
      await failure(place({ idempotencyKey: 'same-key', sku: 'salmon', quantity: 4 })),
    ).toEqual({
      code: status.INVALID_ARGUMENT,
      details: `idempotency_key: already used for order ${first.id} with another customer, sku or quantity`,
    });
  });

  it('refuses bad input with INVALID_ARGUMENT naming the field; an unknown order is NOT_FOUND', async () => {
    const cases: [() => Promise<unknown>, status, RegExp][] = [
      [() => place({ idempotencyKey: '' }), status.INVALID_ARGUMENT, /^idempotency_key: must not/],
      [() => place({ quantity: 0 }), status.INVALID_ARGUMENT, /^quantity: must be greater/],
      [() => place({ sku: '' }), status.INVALID_ARGUMENT, /^sku: must not be empty/],
      [() => place({ sku: 'a b' }), status.INVALID_ARGUMENT, /^sku: must be 1-64/],
      [() => getOrder(''), status.INVALID_ARGUMENT, /^id: must not be empty/],
      [() => getOrder('nope'), status.INVALID_ARGUMENT, /^id: is not an order id/],
      [() => getOrder(newOrderId()), status.NOT_FOUND, /^id: no order /],
      [
        () =>
          callUnary(orders.client, 'listOrders', {
            pageSize: 1,
            pageToken: 'x',
            state: OrderState.ORDER_STATE_UNSPECIFIED,
          }),
        status.INVALID_ARGUMENT,
        /^page_token: /,
      ],
      [
        () =>
          callUnary(orders.client, 'listOrders', {
            pageSize: 1,
            pageToken: '',
            // A state from a newer API version, say: on the wire it is just a number.
            state: 42 as ordersV1.OrderState,
          }),
        status.INVALID_ARGUMENT,
        /^state: unknown order state 42/,
      ],
    ];
    for (const [call, code, details] of cases) {
      const answer = await failure(call());
      expect(answer.code).toBe(code);
      expect(answer.details).toMatch(details);
    }
  });

  it('lists orders newest first, in pages, optionally by state', async () => {
    await restock('duck', 2);
    const placed = [];
    for (let i = 0; i < 5; i++) placed.push(await place({ sku: 'duck' }));
    const newestFirst = placed.map((o) => o.id).reverse();

    const seen: string[] = [];
    let pageToken = '';
    do {
      const page = await callUnary(orders.client, 'listOrders', {
        pageSize: 2,
        pageToken,
        state: OrderState.ORDER_STATE_UNSPECIFIED,
      });
      expect(page.orders.length).toBeLessThanOrEqual(2);
      seen.push(...page.orders.map((o) => o.id));
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    expect(seen.slice(0, 5)).toEqual(newestFirst);
    expect(new Set(seen).size).toBe(seen.length);

    const rejected = await callUnary(orders.client, 'listOrders', {
      pageSize: 0,
      pageToken: '',
      state: OrderState.ORDER_STATE_REJECTED,
    });
    const rejectedDucks = rejected.orders.filter((o) => o.sku === 'duck').map((o) => o.id);
    expect(rejectedDucks).toEqual(newestFirst.slice(0, 3));
  });

  it('makes the cat hungry again after the feeding, but never undoes a newer write', async () => {
    const hungry = await startOrdersReplica(nats.url, {
      inventoryAddress: inventory.address,
      catFeederEndpoints: [catFeeder.address],
      hungerAfterMs: 1,
      name: 'orders-hunger',
    });
    try {
      const order = await place();
      await reaches(order.id, OrderState.ORDER_STATE_FULFILLED);
      const fed = catFeeder.writes.find((w) => w.requestId === `orders/feed/${order.id}#1`)!;
      // Someone writes cat.state after the feeding: the hunger timer must leave that alone.
      const later = catFeeder.put('cat.state', 'full');
      await hungry.hunger!.check();
      expect(catFeeder.value('cat.state')).toBe('full');
      expect(catFeeder.writes.at(-1)!.revision).toBe(later);

      const next = await place();
      await reaches(next.id, OrderState.ORDER_STATE_FULFILLED);
      await vi.waitFor(
        async () => {
          await hungry.hunger!.check();
          expect(catFeeder.value('cat.state')).toBe('hungry');
        },
        { timeout: 10_000, interval: 20 },
      );
      expect(catFeeder.writes.at(-1)!.requestId).toMatch(/^orders\/hunger\/\d+#1$/);
      expect(fed.revision).toBeLessThan(later);
    } finally {
      await hungry.stop();
    }
  });

  it('recovers an order left PENDING by an inventory outage', async () => {
    const port = await freePort();
    const recovering = await startOrdersReplica(nats.url, {
      inventoryAddress: `127.0.0.1:${port}`,
      catFeederEndpoints: [catFeeder.address],
      recoveryEveryMs: 50,
      recoveryAfterMs: 0,
      name: 'orders-recovering',
    });
    let late: InventoryReplica | undefined;
    try {
      const refused = await failure(
        callUnary(recovering.client, 'placeOrder', {
          idempotencyKey: 'during-outage',
          customer: 'ada',
          sku: 'kibble',
          quantity: 1,
        }),
      );
      expect(refused.code).toBe(status.UNAVAILABLE);
      expect(refused.details).toMatch(/stays PENDING and will be retried/);
      const listed = await callUnary(orders.client, 'listOrders', {
        pageSize: 1,
        pageToken: '',
        state: OrderState.ORDER_STATE_PENDING,
      });
      const pending = listed.orders[0]!;
      expect(pending.idempotencyKey).toBe('during-outage');

      late = await startInventoryReplica(nats.url, { port, name: 'inventory-late' });
      await reaches(pending.id, OrderState.ORDER_STATE_FULFILLED);
      const metrics = await recovering.registry.metrics();
      expect(metrics).toMatch(/orders_recovery_actions_total\{action="reserve"\} [1-9]/);
    } finally {
      await recovering.stop();
      await late?.stop();
    }
  });

  it('publishes what a crash left in the outbox, and fulfils the order it left RESERVED', async () => {
    // What a replica leaves behind when it dies after reserving and recording RESERVED, before
    // publishing anything: both events are still in the order's outbox.
    const id = newOrderId(Date.now() - 60_000);
    await callUnary(inventory.client, 'reserve', { orderId: id, sku: 'kibble', quantity: 1 });
    const created = newOrderRecord({
      id,
      idempotencyKey: 'crashed',
      customer: 'ada',
      sku: 'kibble',
      quantity: 1,
      createdAtUnixMs: Date.now() - 60_000,
      updatedAtUnixMs: Date.now() - 60_000,
    });
    const reserved = withState(created, OrderState.ORDER_STATE_RESERVED, Date.now() - 60_000);
    await orders.bucket.create(`order.${id}`, encodeRecord(reserved));

    const recovering = await startOrdersReplica(nats.url, {
      inventoryAddress: inventory.address,
      catFeederEndpoints: [catFeeder.address],
      recoveryEveryMs: 50,
      recoveryAfterMs: 1_000,
      name: 'orders-outbox',
    });
    try {
      await reaches(id, OrderState.ORDER_STATE_FULFILLED);
      await vi.waitFor(
        async () =>
          expect((await orderEventsOf(orders.nats.connection, id)).map((e) => e.subject)).toEqual([
            'orders.pending',
            'orders.reserved',
            'orders.fulfilled',
          ]),
        { timeout: 10_000, interval: 50 },
      );
    } finally {
      await recovering.stop();
    }
  });
});
