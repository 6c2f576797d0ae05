import { status } from '@grpc/grpc-js';
import { SpanKind } from '@opentelemetry/api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { catfeederV1, inventoryV1 } from '@catmesh/proto';
import { installTestTracing } from '@catmesh/testkit';
import {
  callUnary,
  createClient,
  createMetricsRegistry,
  type ServiceImplementation,
  type UnaryMethodName,
} from '@catmesh/runtime';
import {
  inventory,
  startInventoryServer,
  stock,
  type RunningServer,
} from './support/inventory-server.js';

const tracing = installTestTracing();
const registry = createMetricsRegistry();
let running: RunningServer;
/** How many calls each method has received, and how many to fail with UNAVAILABLE first. */
const received = { getStock: 0, commit: 0, restock: 0 };
let failFirst = 0;
/** Calls to `reserve` are held until the test lets them go. */
const heldCalls: (() => void)[] = [];

beforeAll(async () => {
  running = await startInventoryServer(
    inventory({
      getStock: (call, callback) => {
        received.getStock += 1;
        if (received.getStock <= failFirst)
          callback({ code: status.UNAVAILABLE, details: 'warming up' });
        else callback(null, stock(call.request.sku));
      },
      commit: (_call, callback) => {
        received.commit += 1;
        callback({ code: status.UNAVAILABLE, details: 'leader changed' });
      },
      restock: (call, callback) => {
        received.restock += 1;
        // Answers after a while, longer than the short default deadline used below.
        setTimeout(() => callback(null, { stock: stock(call.request.sku).stock }), 500);
      },
      reserve: (_call, callback) => {
        heldCalls.push(() =>
          callback(null, { outcome: 1, reservation: undefined, stock: undefined }),
        );
      },
    }),
    { registry },
  );
});
afterAll(async () => {
  for (const release of heldCalls) release();
  await running.stop();
  await tracing.shutdown();
});
beforeEach(() => {
  received.getStock = 0;
  received.commit = 0;
  received.restock = 0;
  failFirst = 0;
  tracing.reset();
});

describe('retries', () => {
  it('an idempotent method is retried on UNAVAILABLE until it succeeds', async () => {
    failFirst = 2;
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, {
      registry,
      idempotent: ['getStock'],
      retry: { initialBackoffMs: 10, maxBackoffMs: 50 },
    });
    expect(await callUnary(client, 'getStock', { sku: 'kibble' })).toEqual(stock('kibble'));
    client.close();
    expect(received.getStock).toBe(3);

    // Each attempt is a CLIENT span of its own, all children of the same caller context.
    const spans = await tracing.waitForSpans(
      (s) => s.filter((x) => x.kind === SpanKind.CLIENT).length === 3,
    );
    const attempts = spans.filter((s) => s.kind === SpanKind.CLIENT);
    expect(attempts.map((s) => s.attributes['rpc.grpc.status_code'])).toEqual([
      status.UNAVAILABLE,
      status.UNAVAILABLE,
      status.OK,
    ]);
  });

  it('gives up after maxAttempts with the last status', async () => {
    failFirst = 100;
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, {
      registry,
      idempotent: ['getStock'],
      retry: { maxAttempts: 3, initialBackoffMs: 5, maxBackoffMs: 10 },
    });
    await expect(callUnary(client, 'getStock', { sku: 'kibble' })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
      details: 'warming up',
    });
    client.close();
    expect(received.getStock).toBe(3);
  });

  it('a method not declared idempotent is never retried', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, {
      registry,
      idempotent: ['getStock'],
      retry: { initialBackoffMs: 1, maxBackoffMs: 1 },
    });
    await expect(callUnary(client, 'commit', { orderId: 'o-1' })).rejects.toMatchObject({
      code: status.UNAVAILABLE,
    });
    client.close();
    expect(received.commit).toBe(1);
  });

  it('does not retry past the deadline: it stops with the last status when the next wait would cross it', async () => {
    failFirst = Number.MAX_SAFE_INTEGER;
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, {
      registry,
      idempotent: ['getStock'],
      retry: { maxAttempts: 1000, initialBackoffMs: 20, maxBackoffMs: 100 },
    });
    const failure = await callUnary(
      client,
      'getStock',
      { sku: 'kibble' },
      { deadlineMs: 400 },
    ).then(
      () => undefined,
      (error: { code: number }) => error,
    );
    client.close();
    // Normally the last UNAVAILABLE; DEADLINE_EXCEEDED if a slow machine let the last attempt
    // run into the deadline. Either way it stopped long before running out of attempts.
    expect([status.UNAVAILABLE, status.DEADLINE_EXCEEDED]).toContain(failure?.code);
    expect(received.getStock).toBeGreaterThan(1);
    expect(received.getStock).toBeLessThan(1000);
  });

  it('rejects a streaming or unknown method in the idempotent list', () => {
    expect(() =>
      createClient(inventoryV1.InventoryServiceClient, running.address, {
        registry,
        idempotent: ['nope' as 'getStock'],
      }),
    ).toThrow('InventoryService has no method "nope"');
  });
});

describe('deadlines', () => {
  it('a call without a deadline gets the default one: a handler that never answers ends in DEADLINE_EXCEEDED', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, {
      registry,
      defaultDeadlineMs: 300,
    });
    const started = performance.now();
    await expect(
      callUnary(client, 'reserve', { orderId: 'o-2', sku: 'kibble', quantity: 1 }),
    ).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    const elapsed = performance.now() - started;
    client.close();
    expect(elapsed).toBeGreaterThanOrEqual(290);

    // The server saw the same deadline (sent as grpc-timeout) and counts the call as exceeded.
    const exceeded = 'grpc_method="Reserve",grpc_type="unary",grpc_code="DeadlineExceeded"} 1';
    await expect
      .poll(() => registry.getSingleMetricAsString('grpc_server_handled_total'))
      .toContain(exceeded);
  });

  it("the caller's own deadline wins over the default", async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, {
      registry,
      defaultDeadlineMs: 100,
    });
    // The handler answers after 500 ms: past the default, well within the caller's 30 s.
    const response = await callUnary(
      client,
      'restock',
      { sku: 'kibble', quantity: 1, restockId: 'r-1' },
      { deadlineMs: 30_000 },
    );
    expect(response.stock?.sku).toBe('kibble');
    await expect(
      callUnary(client, 'restock', { sku: 'kibble', quantity: 1, restockId: 'r-2' }),
    ).rejects.toMatchObject({ code: status.DEADLINE_EXCEEDED });
    client.close();
  });
});

describe('callUnary', () => {
  it('cancels the call when the signal aborts', async () => {
    const client = createClient(inventoryV1.InventoryServiceClient, running.address, { registry });
    const controller = new AbortController();
    const call = callUnary(
      client,
      'reserve',
      { orderId: 'o-3', sku: 'kibble', quantity: 1 },
      { signal: controller.signal },
    );
    // Wait until the server holds the call, then abort.
    const held = heldCalls.length;
    await expect.poll(() => heldCalls.length).toBe(held + 1);
    controller.abort();
    await expect(call).rejects.toMatchObject({ code: status.CANCELLED });
    client.close();
  });
});

describe('types (checked by tsc; the @ts-expect-error lines fail the typecheck if they compile)', () => {
  it('callUnary takes unary methods only; idempotent takes method names only', () => {
    const names: UnaryMethodName<catfeederV1.CatFeederServiceClient>[] = ['get', 'put', 'status'];
    // @ts-expect-error Watch streams, so it is not a unary method.
    const watch: UnaryMethodName<catfeederV1.CatFeederServiceClient> = 'watch';
    const typeOnly = () =>
      createClient(catfeederV1.CatFeederServiceClient, running.address, {
        registry,
        // @ts-expect-error not a method of the service
        idempotent: ['gett'],
      });
    expect([names.length, watch, typeof typeOnly]).toEqual([3, 'watch', 'function']);
  });

  it('a ts-proto server implementation is a kit ServiceImplementation', () => {
    const check = (implementation: inventoryV1.InventoryServiceServer) => {
      const kit: ServiceImplementation<typeof inventoryV1.InventoryServiceService> = implementation;
      return kit;
    };
    expect(typeof check).toBe('function');
  });
});
