// Does inventory recover from a burst? Orders at a steady, open-loop rate (each a Reserve, then a
// Commit, 3 s deadlines, no retries: what orders sends) against one SKU of one in-process
// inventory replica over a real NATS; then, once, a burst of concurrent Reserves whose callers
// give up at their deadline (what piles up behind a stall of a busy machine); then the steady
// rate again. Prints, per window: calls that succeeded, how many started, their p50, the
// compare-and-set conflicts counted, and the size of the stock document. A healthy inventory is
// back to its baseline goodput a few seconds after the burst; a metastable one never is.
//
//   node --conditions=@catmesh/source --import tsx test/bench/inventory-contention.ts \
//     [--rate 10] [--burst 300] [--before 15s] [--after 45s] [--window 5s] [--deadline 3s] \
//     [--ignore-cancel]
//
// --ignore-cancel serves the calls as inventory did before its handlers passed the call's
// signal to the store: every operation retries its lost races for its full ~10 s of attempts,
// whether or not anyone still waits for it.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { inventoryV1 } from '@catmesh/proto';
import {
  callUnary,
  connectNats,
  createLogger,
  createMetricsRegistry,
  GrpcServer,
  JsonBucket,
} from '@catmesh/runtime';
import { startNatsServer } from '@catmesh/testkit';
import { createInventoryMetrics } from '../../services/inventory/src/inventory-metrics.js';
import { createInventoryService } from '../../services/inventory/src/inventory-service.js';
import { InventoryStore } from '../../services/inventory/src/inventory-store.js';
import { percentile } from './closed-loop.js';

/** `store` with operations that never see their caller's signal (the options argument). */
function deafTo(store: InventoryStore): InventoryStore {
  const arity: Record<string, number> = { reserve: 3, restock: 3, commit: 1, release: 1 };
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property, target);
      if (typeof value !== 'function') return value;
      const keep = typeof property === 'string' ? arity[property] : undefined;
      return (...args: unknown[]): unknown =>
        Reflect.apply(value, target, keep === undefined ? args : args.slice(0, keep));
    },
  });
}

function seconds(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)s$/.exec(text);
  if (!match) throw new Error(`--${flag}: expected seconds such as 5s, got ${text}`);
  return Number(match[1]) * 1000;
}

const { values } = parseArgs({
  options: {
    rate: { type: 'string', default: '10' },
    burst: { type: 'string', default: '300' },
    before: { type: 'string', default: '15s' },
    after: { type: 'string', default: '45s' },
    window: { type: 'string', default: '5s' },
    deadline: { type: 'string', default: '3s' },
    'ignore-cancel': { type: 'boolean', default: false },
  },
});
const RATE = Number(values.rate);
const BURST = Number(values.burst);
const BEFORE_MS = seconds(values.before, 'before');
const AFTER_MS = seconds(values.after, 'after');
const WINDOW_MS = seconds(values.window, 'window');
const DEADLINE_MS = seconds(values.deadline, 'deadline');
const SKU = 'kibble';

const logger = createLogger({ service: 'inventory', instance: 'bench', level: 'silent' });
const nats = await startNatsServer();
const natsClient = await connectNats({ servers: nats.url, name: 'bench', logger });
const bucket = await JsonBucket.open(natsClient.connection, 'inventory');
const registry = createMetricsRegistry();
const metrics = createInventoryMetrics(registry, logger);
const store = new InventoryStore(bucket, { observer: metrics.observer });
const server = new GrpcServer({ host: '127.0.0.1', port: 0, logger, registry });
server.addService(
  inventoryV1.InventoryServiceService,
  createInventoryService(values['ignore-cancel'] ? deafTo(store) : store),
);
const { port } = await server.listen();
server.setServing();
const client = new inventoryV1.InventoryServiceClient(
  `127.0.0.1:${port}`,
  credentials.createInsecure(),
);

const conflicts = async () =>
  (await registry.getSingleMetric('inventory_cas_conflicts_total')!.get()).values.reduce(
    (sum, v) => sum + v.value,
    0,
  );
const documentBytes = async () => {
  const entry = await bucket.kv.get(`sku.${SKU}`);
  return entry?.length ?? 0;
};

interface Window {
  started: number;
  ok: number;
  failed: number;
  latencies: number[];
}
const windows: Window[] = [];
const t0 = performance.now();
const windowAt = (at: number): Window => {
  const i = Math.floor((at - t0) / WINDOW_MS);
  while (windows.length <= i) windows.push({ started: 0, ok: 0, failed: 0, latencies: [] });
  return windows[i]!;
};

let orders = 0;
/** One call; counted in the window it started in. Resolves to whether it succeeded. */
async function timed<T>(run: () => Promise<T>): Promise<T | undefined> {
  const startedAt = performance.now();
  const window = windowAt(startedAt);
  window.started += 1;
  try {
    const answer = await run();
    window.ok += 1;
    window.latencies.push(performance.now() - startedAt);
    return answer;
  } catch (error) {
    window.failed += 1;
    if ((error as Partial<ServiceError>).code === undefined) throw error;
    return undefined;
  }
}
const options = () => ({ metadata: new Metadata(), deadlineMs: DEADLINE_MS });

async function order(): Promise<void> {
  const orderId = `order-${++orders}`;
  const reserved = await timed(() =>
    callUnary(client, 'reserve', { orderId, sku: SKU, quantity: 1 }, options()),
  );
  if (reserved?.outcome !== inventoryV1.ReserveOutcome.RESERVE_OUTCOME_RESERVED) return;
  await timed(() => callUnary(client, 'commit', { orderId }, options()));
}

/** Orders at RATE per second until `untilMs` (open loop: arrivals do not wait for answers). */
async function steady(untilMs: number, inFlight: Promise<void>[]): Promise<void> {
  const every = 1000 / RATE;
  for (let next = performance.now(); next < untilMs; next += every) {
    const wait = next - performance.now();
    if (wait > 0) await sleep(wait);
    inFlight.push(order());
  }
}

await callUnary(client, 'restock', { sku: SKU, quantity: 1_000_000, restockId: 'bench' });
const inFlight: Promise<void>[] = [];
const conflictsAt: number[] = [];
const bytesAt: number[] = [];
const sampler = setInterval(() => {
  void (async () => {
    conflictsAt.push(await conflicts());
    bytesAt.push(await documentBytes());
  })();
}, WINDOW_MS);

await steady(t0 + BEFORE_MS, inFlight);
const burstAt = performance.now();
for (let i = 0; i < BURST; i++) {
  const orderId = `burst-${i}`;
  inFlight.push(
    timed(() => callUnary(client, 'reserve', { orderId, sku: SKU, quantity: 1 }, options())).then(
      () => undefined,
    ),
  );
}
await steady(burstAt + AFTER_MS, inFlight);
await Promise.all(inFlight);
clearInterval(sampler);
const loadEndedAt = performance.now();
const conflictsAtEnd = await conflicts();
// What the replica still does for nobody: conflicts counted after every caller has its answer.
await sleep(5_000);
const conflictsLater = await conflicts();

const burstWindow = Math.floor((burstAt - t0) / WINDOW_MS);
console.log(
  `${values['ignore-cancel'] ? 'operations ignore their callers' : 'operations stop with their callers'}: ` +
    `rate ${RATE}/s, burst of ${BURST} Reserves at ${((burstAt - t0) / 1000).toFixed(1)} s, deadline ${DEADLINE_MS} ms`,
);
console.log('window      started  ok  failed  p50 ms  conflicts  doc bytes');
windows.forEach((w, i) => {
  const sorted = Float64Array.from(w.latencies).sort();
  const from = (i * WINDOW_MS) / 1000;
  const mark = i === burstWindow ? ' <- burst' : '';
  const c = (conflictsAt[i] ?? conflictsAtEnd) - (i > 0 ? (conflictsAt[i - 1] ?? 0) : 0);
  console.log(
    `${String(from).padStart(5)} s  ${String(w.started).padStart(9)} ${String(w.ok).padStart(4)} ${String(w.failed).padStart(7)} ${percentile(sorted, 50).toFixed(0).padStart(7)} ${String(c).padStart(10)} ${String(bytesAt[i] ?? '').padStart(10)}${mark}`,
  );
});
console.log(
  `conflicts in the 5 s after the last answer: ${conflictsLater - conflictsAtEnd} (load ended ${((loadEndedAt - t0) / 1000).toFixed(1)} s)`,
);

client.close();
await server.drain(5_000);
await store.idle();
await natsClient.drain();
await nats.dispose();
