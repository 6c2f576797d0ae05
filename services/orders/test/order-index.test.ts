// The watch-fed order index against the real thing: a real nats-server (JetStream), real
// inventory and orders replicas over gRPC on loopback. The reference for every check is the full
// scan of the bucket that listing used before the index.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ordersV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { startNatsServer, type NatsServer } from '@catmesh/testkit';
import {
  startInventoryReplica,
  type InventoryReplica,
} from '../../inventory/test/support/inventory-harness.js';
import { expireClaims } from '../src/claim-expiry.js';
import { listOrdersByScan } from '../src/list-orders.js';
import { isTerminal } from '../src/order-record.js';
import { startCuttableProxy, type CuttableProxy } from './support/cuttable-proxy.js';
import { startOrdersReplica, type OrdersReplica } from './support/orders-harness.js';

const { OrderState } = ordersV1;
const ALL = { pageSize: 1_000_000, after: '', state: undefined };

let nats: NatsServer;
let inventory: InventoryReplica;
let first: OrdersReplica;
let second: OrdersReplica;
let keys = 0;

beforeAll(async () => {
  nats = await startNatsServer();
  inventory = await startInventoryReplica(nats.url);
  await callUnary(inventory.client, 'restock', {
    sku: 'kibble',
    quantity: 10_000,
    restockId: 'r1',
  });
  first = await startOrdersReplica(nats.url, { inventoryAddress: inventory.address, name: 'a' });
  second = await startOrdersReplica(nats.url, { inventoryAddress: inventory.address, name: 'b' });
});
afterAll(async () => {
  await first?.stop();
  await second?.stop();
  await inventory?.stop();
  await nats?.dispose();
});

const place = (replica: OrdersReplica, request: Partial<ordersV1.PlaceOrderRequest> = {}) =>
  callUnary(replica.client, 'placeOrder', {
    idempotencyKey: `index-${++keys}`,
    customer: 'ada',
    sku: 'kibble',
    quantity: 1,
    ...request,
  }).then((response) => response.order!);

/** Every page of ListOrders through the replica's gRPC API, `pageSize` at a time. */
async function listAll(replica: OrdersReplica, pageSize: number, state = 0): Promise<string[]> {
  const ids: string[] = [];
  let pageToken = '';
  do {
    const page = await callUnary(replica.client, 'listOrders', { pageSize, pageToken, state });
    ids.push(...page.orders.map((o) => `${o.id}:${o.state}`));
    pageToken = page.nextPageToken;
  } while (pageToken !== '');
  return ids;
}

/** The full scan's answer: every order newest first, with its state. */
async function scanned(replica: OrdersReplica, state?: ordersV1.OrderState): Promise<string[]> {
  const page = await listOrdersByScan(replica.deps.store, { ...ALL, state });
  return page.orders.map((o) => `${o.id}:${o.state}`);
}

/** The orders recovery must look at, by the full scan. */
async function unfinishedByScan(replica: OrdersReplica): Promise<string[]> {
  const ids: string[] = [];
  for (const id of await replica.deps.store.listIds()) {
    const record = (await replica.bucket.get<{ order: unknown; outbox: unknown[] }>(
      `order.${id}`,
    ))!;
    const order = ordersV1.Order.fromJSON(record.value.order);
    if (!isTerminal(order.state) || record.value.outbox.length > 0) ids.push(id);
  }
  return ids.sort();
}

/** Waits until the replica's index answers exactly what the full scan answers. */
const matchesScan = (replica: OrdersReplica) =>
  vi.waitFor(
    async () => {
      expect(await listAll(replica, 7)).toEqual(await scanned(replica));
      for (const state of [
        OrderState.ORDER_STATE_PENDING,
        OrderState.ORDER_STATE_RESERVED,
        OrderState.ORDER_STATE_FULFILLED,
        OrderState.ORDER_STATE_REJECTED,
      ]) {
        expect(await listAll(replica, 5, state)).toEqual(await scanned(replica, state));
      }
      const index = replica.deps.index.current!;
      expect(index.unfinishedIds().sort()).toEqual(await unfinishedByScan(replica));
      expect(
        index
          .claims()
          .map((c) => c.key)
          .sort(),
      ).toEqual((await replica.bucket.keys('idem.>')).sort());
    },
    { timeout: 30_000, interval: 100 },
  );

const finished = (replica: OrdersReplica, id: string) =>
  vi.waitFor(
    async () => {
      const { order } = await callUnary(replica.client, 'getOrder', { id });
      expect(isTerminal(order!.state)).toBe(true);
    },
    { timeout: 30_000, interval: 50 },
  );

describe('the order index', () => {
  it('matches a full scan after concurrent orders on two replicas', async () => {
    const placed = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        // Some orders ask for more than the stock holds: REJECTED, a second state to page by.
        place(i % 2 === 0 ? first : second, { quantity: i % 5 === 0 ? 1_000_000 : 1 }),
      ),
    );
    await Promise.all(placed.map((o) => finished(first, o.id)));
    await matchesScan(first);
    await matchesScan(second);
  });

  it('answers a page with what this replica just wrote (read-your-writes)', async () => {
    // The index's watch has its own connection here, which is cut: the index falls behind what
    // the replica writes, and a page must still show the write (waiting, then the scan).
    const proxy = await startCuttableProxy(nats.port);
    const lagging = await startOrdersReplica(nats.url, {
      inventoryAddress: inventory.address,
      indexNatsUrl: proxy.url,
      name: 'lagging',
    });
    try {
      proxy.cut();
      for (let i = 0; i < 2; i++) {
        const order = await place(lagging);
        const page = await callUnary(lagging.client, 'listOrders', {
          pageSize: 1,
          pageToken: '',
          state: 0,
        });
        expect(page.orders[0]?.id).toBe(order.id);
        // Never older than the write: the state is the placed one or a later one.
        expect(page.orders[0]!.state).toBeGreaterThanOrEqual(order.state);
      }
      proxy.restore();
      await matchesScan(lagging);
    } finally {
      await lagging.stop();
      await proxy.close();
    }
  });

  it('resumes after its connection is cut while others write, and after NATS restarts', async () => {
    const proxy: CuttableProxy = await startCuttableProxy(nats.port);
    const cut = await startOrdersReplica(nats.url, {
      inventoryAddress: inventory.address,
      natsUrlOverride: proxy.url,
      name: 'cut',
    });
    try {
      await matchesScan(cut);
      proxy.cut();
      // Written while the replica cannot see the bucket: its index must catch up on all of it.
      const during = await Promise.all(Array.from({ length: 10 }, () => place(first)));
      await Promise.all(during.map((o) => finished(first, o.id)));
      proxy.restore();
      await matchesScan(cut);
      expect(cut.deps.index.resumes).toBeGreaterThan(0);
      // A short break resumes from the applied revision: no rebuild.
      expect(cut.deps.index.builds).toBe(1);

      await nats.stop();
      await nats.start();
      // Until everyone has reconnected, PlaceOrder may fail; one key per order makes retries safe.
      const after = [];
      for (let i = 0; i < 5; i++) {
        const request = { idempotencyKey: `after-restart-${i}` };
        after.push(
          await vi.waitFor(() => place(first, request), { timeout: 30_000, interval: 200 }),
        );
      }
      await Promise.all(after.map((o) => finished(first, o.id)));
      await matchesScan(cut);
      await matchesScan(first);
    } finally {
      await cut.stop();
      await proxy.close();
    }
  });

  it('deletes the idempotency claims of final orders after the retention, and keeps the rest', async () => {
    const expiring = await startOrdersReplica(nats.url, {
      inventoryAddress: inventory.address,
      claimExpiryEveryMs: 50,
      idempotencyRetentionMs: 0,
      name: 'expiring',
    });
    try {
      const placed = await Promise.all(Array.from({ length: 5 }, () => place(expiring)));
      await Promise.all(placed.map((o) => finished(expiring, o.id)));
      // A claim whose order is not written yet (PlaceOrder crashed between its two writes): its
      // retry creates the order from it, so it must stay.
      await expiring.deps.store.claimIdempotencyKey('orphan', {
        orderId: '0zzzzzzzz-0000000000',
        customer: 'ada',
        sku: 'kibble',
        quantity: 1,
        createdAtMs: Date.now(),
      });
      // A claim whose order is still PENDING (nothing drives it here: no recovery runs): a
      // retry must find that order, so it must stay too.
      const pending = await expiring.deps.store.claimIdempotencyKey('pending', {
        orderId: '0zzzzzzzz-0000000001',
        customer: 'ada',
        sku: 'kibble',
        quantity: 1,
        createdAtMs: Date.now() - 60_000,
      });
      await expiring.deps.store.ensureOrder(pending, 'pending');
      const claimKey = (key: string) => `idem.${Buffer.from(key).toString('base64url')}`;
      await vi.waitFor(
        async () => {
          const claims = await expiring.bucket.keys('idem.>');
          expect(claims.sort()).toEqual([claimKey('orphan'), claimKey('pending')].sort());
        },
        { timeout: 30_000, interval: 100 },
      );
      // One more pass on an index that has seen every write keeps them both.
      await expiring.deps.index.indexAt(expiring.deps.store.writtenRevision, 30_000);
      expect(await expireClaims(expiring.deps, 0)).toEqual({ deleted: 0 });
      // The orders themselves stay, and the index still matches the scan.
      await matchesScan(expiring);
    } finally {
      await expiring.stop();
    }
  });
});
