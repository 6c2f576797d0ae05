import { status, type ServiceError } from '@grpc/grpc-js';
import { connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inventoryV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { startNatsServer, type NatsServer } from '@catmesh/testkit';
import type { StockDocument } from '../src/stock-document.js';
import { checkInvariant } from '../src/stock-document.js';
import { startInventoryReplica, type InventoryReplica } from './support/inventory-harness.js';

const { ReserveOutcome, ReservationState } = inventoryV1;

let nats: NatsServer;
let a: InventoryReplica;
let b: InventoryReplica;
let restocks = 0;

beforeAll(async () => {
  nats = await startNatsServer();
  // The replicas open the bucket as it is; created here first, it keeps the last 64 revisions of
  // each key (the service keeps 1), so a test can check every state a document went through.
  const nc = await connect({ servers: nats.url });
  await nc.jetstream().views.kv('inventory', { history: 64, allow_direct: false });
  await nc.close();
  // A low compaction threshold, so archiving runs in the middle of everything below.
  a = await startInventoryReplica(nats.url, { compactAt: 3, name: 'inventory-a' });
  b = await startInventoryReplica(nats.url, { compactAt: 3, name: 'inventory-b' });
});
afterAll(async () => {
  await a?.stop();
  await b?.stop();
  await nats?.dispose();
});

const restock = (r: InventoryReplica, sku: string, quantity: number, restockId?: string) =>
  callUnary(r.client, 'restock', {
    sku,
    quantity,
    restockId: restockId ?? `restock-${++restocks}`,
  });
const reserve = (r: InventoryReplica, orderId: string, sku: string, quantity = 1) =>
  callUnary(r.client, 'reserve', { orderId, sku, quantity });
const stockOf = async (sku: string) => (await callUnary(a.client, 'getStock', { sku })).stock!;

/** The status a call failed with, and its details. */
async function failure(call: Promise<unknown>): Promise<{ code: status; details: string }> {
  try {
    await call;
  } catch (error) {
    const { code, details } = error as ServiceError;
    return { code, details };
  }
  throw new Error('the call succeeded');
}

function expectInvariant(stock: inventoryV1.Stock, restocked: number): void {
  expect(stock.available + stock.reserved + stock.committed).toBe(restocked);
}

describe('inventory', () => {
  it('50 concurrent reservations of 1 against 20 units, through two replicas: exactly 20 reserved', async () => {
    await restock(a, 'kibble', 20);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => reserve(i % 2 ? a : b, `crowd-${i}`, 'kibble')),
    );
    const outcomes = answers.map((r) => r.outcome);
    expect(outcomes.filter((o) => o === ReserveOutcome.RESERVE_OUTCOME_RESERVED)).toHaveLength(20);
    expect(outcomes.filter((o) => o === ReserveOutcome.RESERVE_OUTCOME_OUT_OF_STOCK)).toHaveLength(
      30,
    );
    const stock = await stockOf('kibble');
    expect(stock).toMatchObject({ available: 0, reserved: 20, committed: 0 });
    expectInvariant(stock, 20);

    // Every revision the document went through: the restock, 50 decisions, compactions.
    await Promise.all([a.store.idle(), b.store.idle()]);
    const revisions: StockDocument[] = [];
    for await (const entry of await a.bucket.kv.history({ key: 'sku.kibble' })) {
      revisions.push(entry.json<StockDocument>());
    }
    expect(revisions.length).toBeGreaterThanOrEqual(51);
    for (const doc of revisions) {
      expect(doc.available).toBeGreaterThanOrEqual(0);
      checkInvariant(doc);
    }
  });

  it('a retried Reserve (same order id) is counted once, retried in sequence or at once', async () => {
    await restock(a, 'tuna', 5);
    const first = await reserve(a, 'retry-1', 'tuna', 2);
    const again = await reserve(b, 'retry-1', 'tuna', 2);
    expect(again.outcome).toBe(ReserveOutcome.RESERVE_OUTCOME_RESERVED);
    expect(again.reservation).toEqual(first.reservation);
    const together = await Promise.all(
      Array.from({ length: 10 }, (_, i) => reserve(i % 2 ? a : b, 'retry-2', 'tuna', 1)),
    );
    expect(new Set(together.map((r) => r.outcome))).toEqual(
      new Set([ReserveOutcome.RESERVE_OUTCOME_RESERVED]),
    );
    expect(await stockOf('tuna')).toMatchObject({ available: 2, reserved: 3 });
  });

  it('a refusal is remembered: the same order id stays out of stock after a restock', async () => {
    await restock(a, 'salmon', 1);
    expect((await reserve(a, 'big-1', 'salmon', 2)).outcome).toBe(
      ReserveOutcome.RESERVE_OUTCOME_OUT_OF_STOCK,
    );
    await restock(a, 'salmon', 5);
    expect((await reserve(b, 'big-1', 'salmon', 2)).outcome).toBe(
      ReserveOutcome.RESERVE_OUTCOME_OUT_OF_STOCK,
    );
    expect(await stockOf('salmon')).toMatchObject({ available: 6, reserved: 0 });
    const release = await failure(callUnary(a.client, 'release', { orderId: 'big-1' }));
    expect(release.code).toBe(status.FAILED_PRECONDITION);
    expect(release.details).toMatch(/^order_id: .*out of stock/);
  });

  it('Commit and Release move a reservation once; the other one is refused afterwards', async () => {
    await restock(a, 'chicken', 4);
    await reserve(a, 'move-1', 'chicken', 1);
    await reserve(a, 'move-2', 'chicken', 2);

    const committed = await callUnary(b.client, 'commit', { orderId: 'move-1' });
    expect(committed.reservation?.state).toBe(ReservationState.RESERVATION_STATE_COMMITTED);
    // Commit again answers the same (a retry); Release after Commit cannot be.
    expect((await callUnary(a.client, 'commit', { orderId: 'move-1' })).reservation).toEqual(
      committed.reservation,
    );
    const late = await failure(callUnary(a.client, 'release', { orderId: 'move-1' }));
    expect(late).toEqual({
      code: status.FAILED_PRECONDITION,
      details: 'order_id: the reservation of move-1 is already committed',
    });

    const released = await callUnary(a.client, 'release', { orderId: 'move-2' });
    expect(released.reservation).toMatchObject({
      orderId: 'move-2',
      sku: 'chicken',
      quantity: 2,
      state: ReservationState.RESERVATION_STATE_RELEASED,
    });
    expect((await failure(callUnary(b.client, 'commit', { orderId: 'move-2' }))).code).toBe(
      status.FAILED_PRECONDITION,
    );
    const stock = await stockOf('chicken');
    expect(stock).toMatchObject({ available: 3, reserved: 0, committed: 1 });
    expectInvariant(stock, 4);
  });

  it('answers the same after settled entries were archived out of the document', async () => {
    await restock(a, 'duck', 10);
    for (let i = 0; i < 8; i++) {
      await reserve(i % 2 ? a : b, `archived-${i}`, 'duck');
      await callUnary(a.client, 'commit', { orderId: `archived-${i}` });
    }
    await Promise.all([a.store.idle(), b.store.idle()]);
    const doc = await a.bucket.get<StockDocument>('sku.duck');
    expect(Object.keys(doc!.value.reservations).length).toBeLessThan(8);

    // Every one of them, archived or not, is still known and still counted once.
    for (let i = 0; i < 8; i++) {
      const again = await reserve(b, `archived-${i}`, 'duck');
      expect(again.reservation?.state).toBe(ReservationState.RESERVATION_STATE_COMMITTED);
    }
    const stock = await stockOf('duck');
    expect(stock).toMatchObject({ available: 2, reserved: 0, committed: 8 });
  });

  it('a reservation claimed by a process that died before applying it is applied once later', async () => {
    await restock(a, 'beef', 3);
    // What a replica leaves behind when it dies between claiming the order id and the write.
    await a.bucket.create('reservation.orphan-1', {
      orderId: 'orphan-1',
      sku: 'beef',
      quantity: 2,
      state: 'claimed',
    });
    expect((await failure(callUnary(a.client, 'commit', { orderId: 'orphan-1' }))).code).toBe(
      status.NOT_FOUND,
    );
    const answers = await Promise.all([
      reserve(a, 'orphan-1', 'beef', 2),
      reserve(b, 'orphan-1', 'beef', 2),
    ]);
    expect(answers.map((r) => r.outcome)).toEqual([
      ReserveOutcome.RESERVE_OUTCOME_RESERVED,
      ReserveOutcome.RESERVE_OUTCOME_RESERVED,
    ]);
    expect(await stockOf('beef')).toMatchObject({ available: 1, reserved: 2 });
  });

  it('restocks once per restock id; a restock or order id means one SKU and quantity', async () => {
    await restock(a, 'lamb', 5, 'delivery-7');
    await Promise.all([restock(a, 'lamb', 5, 'delivery-7'), restock(b, 'lamb', 5, 'delivery-7')]);
    expect(await stockOf('lamb')).toMatchObject({ available: 5 });
    expect(await failure(restock(b, 'lamb', 6, 'delivery-7'))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: 'restock_id: already used for sku lamb, quantity 5',
    });
    await reserve(a, 'lamb-1', 'lamb', 1);
    expect(await failure(reserve(b, 'lamb-1', 'duck', 1))).toEqual({
      code: status.FAILED_PRECONDITION,
      details: 'order_id: already used for sku lamb, quantity 1',
    });
  });

  it('takes ids that are names of object properties as plain ids', async () => {
    await restock(a, 'trout', 2, 'toString');
    for (const orderId of ['constructor', '__proto__']) {
      const answer = await reserve(b, orderId, 'trout');
      expect(answer.reservation).toEqual({
        orderId,
        sku: 'trout',
        quantity: 1,
        state: ReservationState.RESERVATION_STATE_RESERVED,
      });
      await callUnary(a.client, 'commit', { orderId });
    }
    expect(await stockOf('trout')).toMatchObject({ available: 0, reserved: 0, committed: 2 });
  });

  it('refuses bad input with INVALID_ARGUMENT naming the field, unknown things with NOT_FOUND', async () => {
    const cases: [() => Promise<unknown>, status, RegExp][] = [
      [() => reserve(a, '', 'kibble'), status.INVALID_ARGUMENT, /^order_id: must not be empty/],
      [() => reserve(a, 'o-1', ''), status.INVALID_ARGUMENT, /^sku: must not be empty/],
      [() => reserve(a, 'o-1', 'kib ble'), status.INVALID_ARGUMENT, /^sku: must be 1-64/],
      [() => reserve(a, 'o-1', 'kibble', 0), status.INVALID_ARGUMENT, /^quantity: must be greater/],
      [() => restock(a, 'kibble', 0), status.INVALID_ARGUMENT, /^quantity: /],
      [
        () => restock(a, 'kibble', 1, ''),
        status.INVALID_ARGUMENT,
        /^restock_id: must not be empty/,
      ],
      [() => callUnary(a.client, 'getStock', { sku: '' }), status.INVALID_ARGUMENT, /^sku: /],
      [
        () => callUnary(a.client, 'release', { orderId: '' }),
        status.INVALID_ARGUMENT,
        /^order_id: /,
      ],
      [
        () => callUnary(a.client, 'commit', { orderId: 'a.b' }),
        status.INVALID_ARGUMENT,
        /^order_id: /,
      ],
      [() => callUnary(a.client, 'getStock', { sku: 'nothing' }), status.NOT_FOUND, /^sku: /],
      [() => reserve(a, 'o-unknown-sku', 'nothing'), status.NOT_FOUND, /^sku: no stock of nothing/],
      [() => callUnary(a.client, 'release', { orderId: 'never' }), status.NOT_FOUND, /^order_id: /],
      [() => callUnary(a.client, 'commit', { orderId: 'never' }), status.NOT_FOUND, /^order_id: /],
    ];
    for (const [call, code, details] of cases) {
      const answer = await failure(call());
      expect(answer.code).toBe(code);
      expect(answer.details).toMatch(details);
    }
    // The refused Reserve on an unknown SKU claimed nothing.
    expect(await a.bucket.get('reservation.o-unknown-sku')).toBeUndefined();
  });

  it('exports the stock by SKU and state, and reservations by outcome', async () => {
    await restock(a, 'mackerel', 2);
    await reserve(a, 'metrics-1', 'mackerel', 1);
    await reserve(a, 'metrics-2', 'mackerel', 5);
    await expect
      .poll(async () => (await b.registry.getSingleMetric('inventory_stock_units')!.get()).values)
      .toEqual(
        expect.arrayContaining([
          { labels: { sku: 'mackerel', state: 'available' }, value: 1 },
          { labels: { sku: 'mackerel', state: 'reserved' }, value: 1 },
          { labels: { sku: 'mackerel', state: 'committed' }, value: 0 },
        ]),
      );
    const text = await a.registry.metrics();
    expect(text).toMatch(/inventory_reservations_total\{outcome="reserved"\} [1-9]/);
    expect(text).toMatch(/inventory_reservations_total\{outcome="out_of_stock"\} [1-9]/);
  });
});
