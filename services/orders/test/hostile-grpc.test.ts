// Hostile requests to every API the shop's processes serve, tried by machine: a real inventory
// and a real orders process (run from source, against a real NATS) get random bytes as the
// request body of each method of InventoryService, OrderService and their FaultAdminService
// (bypassing the typed encoder), and well-typed requests with random keys, ids, SKUs, quantities,
// page tokens and enum values. Each call ends with a deliberate status before its deadline, both
// processes keep answering, and a call that did not succeed wrote nothing: no JetStream stream
// (the orders and inventory buckets, the order events) moved.
//
// grpc-js's own refusal of bytes that do not decode is deliberate too (see @catmesh/testkit).
import { credentials, Client, status, type ServiceError } from '@grpc/grpc-js';
import fc from 'fast-check';
import { connect, type JetStreamManager, type NatsConnection } from 'nats';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { faultsV1, inventoryV1, ordersV1 } from '@catmesh/proto';
import { callUnary } from '@catmesh/runtime';
import {
  callWithBytes,
  freePort,
  propertyRuns,
  requestBytes,
  startNatsServer,
  undeliberate,
  type GrpcMethod,
  type NatsServer,
} from '@catmesh/testkit';
import { startCatFeederDouble, type CatFeederDouble } from './support/cat-feeder-double.js';
import { ServiceProcess } from './support/service-process.js';

const DEADLINE_MS = 5_000;
const TOKEN = /^[A-Za-z0-9_-]+$/;
const ORDER_ID = /^[0-9a-z]{9}-[0-9a-f]{10}$/;
const MAX_QUANTITY = 1_000_000;

interface Served {
  readonly name: string;
  readonly raw: Client;
  readonly faults: faultsV1.FaultAdminServiceClient;
  readonly rawAdmin: Client;
}

let nats: NatsServer;
let nc: NatsConnection;
let jsm: JetStreamManager;
let catFeeder: CatFeederDouble;
let inventoryProcess: ServiceProcess;
let ordersProcess: ServiceProcess;
let inventory: inventoryV1.InventoryServiceClient;
let orders: ordersV1.OrderServiceClient;
let served: Served[] = [];

beforeAll(async () => {
  nats = await startNatsServer();
  nc = await connect({ servers: nats.url });
  jsm = await nc.jetstreamManager();
  catFeeder = await startCatFeederDouble();
  const common = {
    CATMESH_NATS_URL: nats.url,
    CATMESH_GRPC_HOST: '127.0.0.1',
    CATMESH_LOG_LEVEL: 'info',
    OTEL_SDK_DISABLED: 'true',
  };
  const ports = {
    inventory: await freePort(),
    inventoryAdmin: await freePort(),
    orders: await freePort(),
    ordersAdmin: await freePort(),
  };
  inventoryProcess = new ServiceProcess('services/inventory', {
    ...common,
    CATMESH_GRPC_PORT: String(ports.inventory),
    CATMESH_METRICS_PORT: String(await freePort()),
    CATMESH_ADMIN_PORT: String(ports.inventoryAdmin),
    CATMESH_INVENTORY_SEED: 'kibble=40',
  });
  ordersProcess = new ServiceProcess('services/orders', {
    ...common,
    CATMESH_GRPC_PORT: String(ports.orders),
    CATMESH_METRICS_PORT: String(await freePort()),
    CATMESH_ADMIN_PORT: String(ports.ordersAdmin),
    CATMESH_INVENTORY_ENDPOINT: `127.0.0.1:${ports.inventory}`,
    CATMESH_CATFEEDER_ENDPOINTS: catFeeder.address,
  });
  await Promise.all([
    inventoryProcess.start('inventory serving'),
    ordersProcess.start('orders serving'),
  ]);
  const insecure = credentials.createInsecure();
  inventory = new inventoryV1.InventoryServiceClient(`127.0.0.1:${ports.inventory}`, insecure);
  orders = new ordersV1.OrderServiceClient(`127.0.0.1:${ports.orders}`, insecure);
  served = (
    [
      ['inventory', ports.inventory, ports.inventoryAdmin],
      ['orders', ports.orders, ports.ordersAdmin],
    ] as const
  ).map(([name, port, adminPort]) => ({
    name,
    raw: new Client(`127.0.0.1:${port}`, insecure),
    rawAdmin: new Client(`127.0.0.1:${adminPort}`, insecure),
    faults: new faultsV1.FaultAdminServiceClient(`127.0.0.1:${adminPort}`, insecure),
  }));
}, 180_000);

afterAll(async () => {
  for (const s of served) {
    s.raw.close();
    s.rawAdmin.close();
    s.faults.close();
  }
  inventory?.close();
  orders?.close();
  await ordersProcess?.stop();
  await inventoryProcess?.stop();
  await nc?.close();
  await catFeeder?.stop();
  await nats?.dispose();
});

const ok = { code: status.OK, details: '' } as ServiceError;

/** The status a typed call ended with. */
const outcomeOf = (call: Promise<unknown>): Promise<ServiceError> =>
  call.then(
    () => ok,
    (error: ServiceError) => error,
  );

function expectDeliberate(what: string, outcome: ServiceError): void {
  expect(undeliberate(outcome), what).toBeUndefined();
}

/** Every JetStream stream and the sequence of its last message: any write moves one. */
async function written(): Promise<string> {
  const streams = await jsm.streams.list().next();
  return JSON.stringify(
    streams.map((s) => [s.config.name, s.state.last_seq]).sort(([a], [b]) => (a! < b! ? -1 : 1)),
  );
}

/**
 * Runs `call`; when it did not succeed, no stream moved. A success may go on writing (an order's
 * events), so the next baseline waits for the streams to settle.
 */
let settled = true;
async function refusedWroteNothing(call: () => Promise<ServiceError>): Promise<ServiceError> {
  if (!settled) {
    await vi.waitFor(
      async () => {
        const first = await written();
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(await written()).toBe(first);
      },
      { timeout: 10_000, interval: 0 },
    );
    settled = true;
  }
  const before = await written();
  const outcome = await call();
  if (outcome.code === status.OK) settled = false;
  else expect(await written(), `${status[outcome.code]} ${outcome.details}`).toBe(before);
  return outcome;
}

/** Both processes still answer a valid read of each API, and orders still takes an order. */
async function expectHealthy(): Promise<void> {
  const options = { deadlineMs: DEADLINE_MS };
  const tails = `${inventoryProcess.tail()}\n${ordersProcess.tail()}`;
  await callUnary(inventory, 'getStock', { sku: 'kibble' }, options).catch((error: Error) =>
    expect.fail(`inventory: ${error.message}\n${tails}`),
  );
  await callUnary(
    orders,
    'listOrders',
    { pageSize: 1, pageToken: '', state: ordersV1.OrderState.ORDER_STATE_UNSPECIFIED },
    options,
  ).catch((error: Error) => expect.fail(`orders: ${error.message}\n${tails}`));
  for (const s of served) {
    await callUnary(s.faults, 'listFaults', {}, options).catch((error: Error) =>
      expect.fail(`${s.name} fault admin: ${error.message}\n${tails}`),
    );
  }
}

/** Strings a key, id or SKU field may be sent: tokens, near-tokens, unicode, empty, huge. */
const text = (maxToken: number) =>
  fc.oneof(
    fc.stringMatching(new RegExp(`^[A-Za-z0-9_-]{1,${maxToken + 8}}$`)),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 20 }),
    fc.string({ minLength: 1000, maxLength: 5000 }),
  );
/**
 * A uint32 field as it arrives: zero, the limits either side, and the 32-bit pattern of -1 (what
 * a client that sent an int32 puts on the wire; grpc-js's own encoder refuses a negative number).
 */
const quantity = fc.oneof(
  fc.constantFrom(0, 1, MAX_QUANTITY, MAX_QUANTITY + 1, 2 ** 32 - 1),
  fc.nat({ max: 2 ** 32 - 1 }),
);
/** What reaches the server: strings through UTF-8 (a lone surrogate becomes U+FFFD). */
const wire = (s: string) => Buffer.from(s).toString();
const isToken = (s: string, max: number) => s.length <= max && TOKEN.test(s);
/**
 * Mostly `valid`, sometimes `hostile`: a request is refused for its first bad field, so a check
 * on one field is only tried when the others are good.
 */
const mostly = <T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 2 }, { arbitrary: hostile, weight: 1 });
/** Strings of exactly the lengths either side of a limit. */
const around = (limit: number) =>
  fc.integer({ min: limit - 2, max: limit + 2 }).map((n) => 'c'.repeat(n));
const isQuantity = (q: number) => q > 0 && q <= MAX_QUANTITY;

describe('the shop under hostile requests', () => {
  it('answers random bytes to every InventoryService and OrderService method deliberately, writing nothing it refused', async () => {
    const [inventoryServed, ordersServed] = served;
    const targets: [Served, GrpcMethod][] = [
      ...Object.values(inventoryV1.InventoryServiceService).map((m): [Served, GrpcMethod] => [
        inventoryServed!,
        m,
      ]),
      ...Object.values(ordersV1.OrderServiceService).map((m): [Served, GrpcMethod] => [
        ordersServed!,
        m,
      ]),
    ];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets),
        requestBytes,
        async ([target, method], bytes) => {
          const outcome = await refusedWroteNothing(() =>
            callWithBytes(target.raw, method, bytes, DEADLINE_MS),
          );
          expectDeliberate(method.path, outcome);
        },
      ),
      propertyRuns(100),
    );
    await expectHealthy();
  }, 180_000);

  it('answers random bytes to the fault admin API of both processes deliberately', async () => {
    const targets = served.flatMap((s) =>
      Object.values(faultsV1.FaultAdminServiceService).map((m) => [s, m] as const),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...targets),
        requestBytes,
        async ([target, method], bytes) => {
          const outcome = await callWithBytes(target.rawAdmin, method, bytes, DEADLINE_MS);
          expectDeliberate(`${target.name} ${method.path}`, outcome);
          // A fault that random bytes happened to apply is taken back before the next call.
          if (outcome.code === status.OK && method.path.endsWith('/ApplyFault')) {
            await callUnary(target.faults, 'revertAll', { experiment: '' });
          }
        },
      ),
      propertyRuns(60),
    );
    await expectHealthy();
  }, 180_000);

  it('refuses inventory requests with a bad SKU, id or quantity with INVALID_ARGUMENT, writing nothing', async () => {
    const request = fc.record({
      method: fc.constantFrom('getStock', 'restock', 'reserve', 'release', 'commit'),
      sku: mostly(fc.constant('kibble'), fc.oneof(text(64), around(64))),
      id: mostly(fc.stringMatching(/^[a-z0-9-]{1,20}$/), fc.oneof(text(128), around(128))),
      quantity: mostly(fc.integer({ min: 1, max: MAX_QUANTITY }), quantity),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ method, sku, id, quantity: q }) => {
        const deadline = { deadlineMs: DEADLINE_MS };
        const call = {
          getStock: () => callUnary(inventory, 'getStock', { sku }, deadline),
          restock: () =>
            callUnary(inventory, 'restock', { sku, quantity: q, restockId: id }, deadline),
          reserve: () =>
            callUnary(inventory, 'reserve', { orderId: id, sku, quantity: q }, deadline),
          release: () => callUnary(inventory, 'release', { orderId: id }, deadline),
          commit: () => callUnary(inventory, 'commit', { orderId: id }, deadline),
        }[method];
        const valid = {
          getStock: isToken(wire(sku), 64),
          restock: isToken(wire(sku), 64) && isQuantity(q) && isToken(wire(id), 128),
          reserve: isToken(wire(id), 128) && isToken(wire(sku), 64) && isQuantity(q),
          release: isToken(wire(id), 128),
          commit: isToken(wire(id), 128),
        }[method];
        const outcome = await refusedWroteNothing(() => outcomeOf(call()));
        const seen = `${method} ${status[outcome.code]} ${outcome.details}`;
        if (valid) {
          expect([status.OK, status.NOT_FOUND, status.FAILED_PRECONDITION], seen).toContain(
            outcome.code,
          );
        } else {
          expect(outcome.code, seen).toBe(status.INVALID_ARGUMENT);
          expect(outcome.details, seen).toMatch(/^(sku|quantity|order_id|restock_id): /);
        }
      }),
      propertyRuns(120),
    );
    await expectHealthy();
  }, 180_000);

  it('refuses orders it cannot take with INVALID_ARGUMENT, writing nothing, and takes the others as sent', async () => {
    const accepted = new Map<string, string>();
    const request = fc.record({
      idempotencyKey: mostly(
        fc.stringMatching(/^[a-z0-9-]{1,40}$/),
        fc.oneof(fc.constant(''), text(256), around(256)),
      ),
      customer: mostly(
        fc.string({ maxLength: 20 }),
        fc.oneof(around(256), fc.string({ minLength: 250, maxLength: 400 })),
      ),
      sku: mostly(fc.constant('kibble'), fc.oneof(text(64), around(64))),
      quantity: mostly(fc.integer({ min: 1, max: 50 }), quantity),
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const key = wire(r.idempotencyKey);
        const terms = JSON.stringify([wire(r.customer), wire(r.sku), r.quantity]);
        const valid =
          key.length > 0 &&
          Buffer.byteLength(key) <= 256 &&
          wire(r.customer).length <= 256 &&
          isToken(wire(r.sku), 64) &&
          isQuantity(r.quantity);
        let order: ordersV1.Order | undefined;
        const outcome = await refusedWroteNothing(() =>
          outcomeOf(
            callUnary(orders, 'placeOrder', r, { deadlineMs: DEADLINE_MS }).then((response) => {
              order = response.order;
            }),
          ),
        );
        const seen = `${status[outcome.code]} ${outcome.details}`;
        const reused = accepted.has(key) && accepted.get(key) !== terms;
        // Whatever the verdict, the server now holds this key (so shrinking sees it reused).
        if (outcome.code === status.OK && !accepted.has(key)) accepted.set(key, terms);
        if (!valid || reused) {
          expect(outcome.code, seen).toBe(status.INVALID_ARGUMENT);
          expect(outcome.details, seen).toMatch(/^(idempotency_key|customer|sku|quantity): /);
          return;
        }
        expect(outcome.code, seen).toBe(status.OK);
        expect(order).toMatchObject({
          idempotencyKey: key,
          customer: wire(r.customer),
          sku: wire(r.sku),
          quantity: r.quantity,
        });
        // No SKU but kibble is stocked, and no order of kibble takes more than there is.
        expect(
          [ordersV1.OrderState.ORDER_STATE_REJECTED, ordersV1.OrderState.ORDER_STATE_RESERVED],
          `${r.sku}: ${ordersV1.orderStateToJSON(order!.state)}`,
        ).toContain(order!.state);
      }),
      propertyRuns(80),
    );
    await expectHealthy();
  }, 180_000);

  it('answers GetOrder and ListOrders with any id, page token, size and state: a result, NOT_FOUND or INVALID_ARGUMENT', async () => {
    const state = fc.oneof(
      fc.constantFrom(0, 1, 2, 3, 4, 5),
      fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    );
    const id = fc.oneof(
      text(20),
      fc.stringMatching(/^[0-9a-z]{9}-[0-9a-f]{10}$/),
      fc.constant('0mhx2k1a3-9f8e7d6c5b'),
    );
    const read = fc.record({
      asGet: fc.boolean(),
      id: fc.oneof(fc.constant(''), id),
      pageSize: fc.oneof(fc.constantFrom(0, 1, 500, 501), fc.nat({ max: 2 ** 32 - 1 })),
      state,
    });
    await fc.assert(
      fc.asyncProperty(read, async ({ asGet, id, pageSize, state }) => {
        const deadline = { deadlineMs: DEADLINE_MS };
        const outcome = await refusedWroteNothing(() =>
          outcomeOf(
            asGet
              ? callUnary(orders, 'getOrder', { id }, deadline)
              : callUnary(orders, 'listOrders', { pageSize, pageToken: id, state }, deadline),
          ),
        );
        const seen = `${status[outcome.code]} ${outcome.details}`;
        const wellFormed = ORDER_ID.test(wire(id));
        if (asGet) {
          expect(
            wellFormed ? [status.OK, status.NOT_FOUND] : [status.INVALID_ARGUMENT],
            seen,
          ).toContain(outcome.code);
        } else {
          const valid = (id === '' || wellFormed) && state >= 0 && state <= 5;
          expect(outcome.code, seen).toBe(valid ? status.OK : status.INVALID_ARGUMENT);
        }
      }),
      propertyRuns(100),
    );
    await expectHealthy();
  }, 180_000);
});
