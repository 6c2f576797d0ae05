// Work nobody waits for stops: a Reserve or Commit whose caller has gone (cancelled, or past its
// deadline) stops its compare-and-set loop on the stock document instead of retrying for ~10 s
// against the calls still waited for, and leaves nothing that a later call cannot finish.
import { Metadata, status } from '@grpc/grpc-js';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { inventoryV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import { startNatsServer, type NatsServer } from '@catmesh/testkit';
import { startInventoryReplica, type InventoryReplica } from './support/inventory-harness.js';

const { ReserveOutcome, ReservationState } = inventoryV1;

/** vi.waitFor's safety net on a loaded machine (its default is 1 s). */
const EVENTUALLY = { timeout: 30_000, interval: 10 };

let nats: NatsServer;
let replica: InventoryReplica;
let restocks = 0;

beforeAll(async () => {
  nats = await startNatsServer();
  replica = await startInventoryReplica(nats.url, { name: 'inventory-caller-gone' });
});
afterEach(() => {
  vi.restoreAllMocks();
});
afterAll(async () => {
  await replica?.stop();
  await nats?.dispose();
});

/**
 * Keeps the stock document of `sku` contended: right after every read of it through the store's
 * bucket, another writer rewrites it (same content, next revision), so every compare-and-set
 * attempt on it loses. Returns how many times the store has read it so far.
 */
function contend(sku: string): () => number {
  const key = `sku.${sku}`;
  const bucket = replica.bucket;
  const get = bucket.get.bind(bucket);
  let reads = 0;
  vi.spyOn(bucket, 'get').mockImplementation(async (read: string) => {
    const answer = await get(read);
    if (read === key) {
      reads += 1;
      const entry = await bucket.kv.get(key);
      if (entry) await bucket.kv.put(key, entry.value);
    }
    return answer;
  });
  return () => reads;
}

async function conflicts(operation: string): Promise<number> {
  const metric = replica.registry.getSingleMetric('inventory_cas_conflicts_total')!;
  const sample = (await metric.get()).values.find((v) => v.labels['operation'] === operation);
  return sample?.value ?? 0;
}

const restock = (sku: string, quantity: number) =>
  callUnary(replica.client, 'restock', { sku, quantity, restockId: `restock-${++restocks}` });
const stockOf = async (sku: string) =>
  (await callUnary(replica.client, 'getStock', { sku })).stock!;

/** The promise of the store operation the handler started, the first one spied on. */
function operationOf(spy: { mock: { results: { value: unknown }[] } }): Promise<unknown> {
  return spy.mock.results[0]!.value as Promise<unknown>;
}

/** Nothing more happens on the replica: `count` stays at `before` across a round trip to it. */
async function expectStill(count: () => number | Promise<number>, before: number): Promise<void> {
  await callUnary(replica.client, 'getStock', { sku: 'lentils' });
  await new Promise((resolve) => setImmediate(resolve));
  expect(await count()).toBe(before);
}

describe('a call whose caller has gone', () => {
  beforeAll(async () => {
    await restock('lentils', 1);
  });

  it('a cancelled Reserve stops retrying its lost races and leaves a claim a retry completes', async () => {
    await restock('barley', 5);
    const reads = contend('barley');
    const reserve = vi.spyOn(replica.store, 'reserve');
    const controller = new AbortController();
    const call = callUnary(
      replica.client,
      'reserve',
      { orderId: 'gone-1', sku: 'barley', quantity: 2 },
      { signal: controller.signal },
    ).catch((error: unknown) => error);

    // It is losing race after race, as it would against a crowd of other Reserves.
    await vi.waitFor(
      async () => expect(await conflicts('reserve')).toBeGreaterThanOrEqual(3),
      EVENTUALLY,
    );
    controller.abort();
    expect(await call).toMatchObject({ code: status.CANCELLED });

    // The store operation itself ends, with the call's status, while the document is still
    // contended (without the signal it would go on to its last attempt and ContentionError).
    await expect(operationOf(reserve)).rejects.toMatchObject({ code: status.CANCELLED });
    const lost = await conflicts('reserve');
    const read = reads();
    await expectStill(() => conflicts('reserve'), lost);
    await expectStill(reads, read);

    // Nothing was applied; the claim stays `claimed`, as a replica that died before its write
    // leaves it, and is handled the same: unknown to Commit, applied once by a retry.
    expect(await stockOf('barley')).toMatchObject({ available: 5, reserved: 0 });
    expect((await replica.bucket.get<{ state: string }>('reservation.gone-1'))?.value.state).toBe(
      'claimed',
    );
    vi.restoreAllMocks();
    await expect(callUnary(replica.client, 'commit', { orderId: 'gone-1' })).rejects.toMatchObject({
      code: status.NOT_FOUND,
    });
    const retried = await callUnary(replica.client, 'reserve', {
      orderId: 'gone-1',
      sku: 'barley',
      quantity: 2,
    });
    expect(retried.outcome).toBe(ReserveOutcome.RESERVE_OUTCOME_RESERVED);
    expect(await stockOf('barley')).toMatchObject({ available: 3, reserved: 2 });
  });

  it('a Reserve past its deadline stops with DEADLINE_EXCEEDED', async () => {
    await restock('rye', 5);
    contend('rye');
    const reserve = vi.spyOn(replica.store, 'reserve');
    // The deadline as the server counts it, without the client's own timer, which would cancel
    // the call a moment before (then the server sees a cancel, as the test above).
    const metadata = new Metadata();
    metadata.set('grpc-timeout', '2S');
    const call = callUnary(
      replica.client,
      'reserve',
      { orderId: 'late-1', sku: 'rye', quantity: 1 },
      { metadata },
    ).catch((error: unknown) => error);

    expect(await call).toMatchObject({ code: status.DEADLINE_EXCEEDED });
    await expect(operationOf(reserve)).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    const lost = await conflicts('reserve');
    await expectStill(() => conflicts('reserve'), lost);
    expect(await stockOf('rye')).toMatchObject({ available: 5, reserved: 0 });
  });

  it('a cancelled Commit stops too, and leaves the reservation for the next Commit', async () => {
    await restock('millet', 3);
    await callUnary(replica.client, 'reserve', { orderId: 'commit-1', sku: 'millet', quantity: 1 });
    contend('millet');
    const commit = vi.spyOn(replica.store, 'commit');
    const controller = new AbortController();
    const call = callUnary(
      replica.client,
      'commit',
      { orderId: 'commit-1' },
      { signal: controller.signal },
    ).catch((error: unknown) => error);

    await vi.waitFor(
      async () => expect(await conflicts('commit')).toBeGreaterThanOrEqual(3),
      EVENTUALLY,
    );
    controller.abort();
    expect(await call).toMatchObject({ code: status.CANCELLED });
    await expect(operationOf(commit)).rejects.toMatchObject({ code: status.CANCELLED });
    const lost = await conflicts('commit');
    await expectStill(() => conflicts('commit'), lost);

    vi.restoreAllMocks();
    expect(await stockOf('millet')).toMatchObject({ available: 2, reserved: 1, committed: 0 });
    const committed = await callUnary(replica.client, 'commit', { orderId: 'commit-1' });
    expect(committed.reservation?.state).toBe(ReservationState.RESERVATION_STATE_COMMITTED);
    expect(await stockOf('millet')).toMatchObject({ available: 2, reserved: 0, committed: 1 });
  });
});
