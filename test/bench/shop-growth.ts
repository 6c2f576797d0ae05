// The shop under growth: what listing a page, recovery after a restart and the bucket cost with
// many orders, before (a full scan of the bucket) and after (the watch-fed index).
//
//   node --conditions=@catmesh/source --import tsx test/bench/shop-growth.ts [--orders 100000] [--runs 3]
//
// Seeding: the order records (and their idempotency claims) are written straight into the
// `orders` bucket in concurrent batches; placing 100,000 orders through PlaceOrder, inventory and
// the stream would take far longer and measure the pipeline, not listing. 1% of them are left
// PENDING (what recovery must find), the rest FULFILLED. Recovery is timed up to knowing its
// candidates with their current records (driving them on is the same work either way).
import { setTimeout as sleep } from 'node:timers/promises';
import { ordersV1 } from '@catmesh/proto';
import { connectNats, createLogger, JsonBucket } from '@catmesh/runtime';
import { startNatsServer } from '@catmesh/testkit';
import { ClaimExpiry } from '../../services/orders/src/claim-expiry.js';
import { listOrders, listOrdersByScan } from '../../services/orders/src/list-orders.js';
import { OrderIndexFeed } from '../../services/orders/src/order-index-feed.js';
import { newOrderId } from '../../services/orders/src/order-ids.js';
import { encodeRecord, newOrderRecord, withState } from '../../services/orders/src/order-record.js';
import { OrderStore } from '../../services/orders/src/order-store.js';

const { OrderState } = ordersV1;
const arg = (name: string, fallback: number) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const ORDERS = arg('orders', 100_000);
const RUNS = arg('runs', 3);
const IN_FLIGHT = 256;
const PAGE = 50;

const logger = createLogger({ service: 'bench', instance: 'shop-growth', level: 'silent' });
const nats = await startNatsServer();
const client = await connectNats({ servers: nats.url, name: 'bench', logger });
const bucket = await JsonBucket.open(client.connection, 'orders');

async function seed(): Promise<void> {
  const started = Date.now() - ORDERS - 3_600_000;
  let next = 0;
  const writer = async () => {
    for (let i = next++; i < ORDERS; i = next++) {
      const at = started + i;
      const id = newOrderId(at);
      const key = `bench-${i}`;
      let record = newOrderRecord({
        id,
        idempotencyKey: key,
        customer: 'ada',
        sku: 'kibble',
        quantity: 1,
        createdAtUnixMs: at,
        updatedAtUnixMs: at,
      });
      if (i % 100 !== 0) {
        record = withState(record, OrderState.ORDER_STATE_RESERVED, at);
        record = { ...withState(record, OrderState.ORDER_STATE_FULFILLED, at), outbox: [] };
      }
      await bucket.create(`idem.${Buffer.from(key).toString('base64url')}`, {
        orderId: id,
        customer: 'ada',
        sku: 'kibble',
        quantity: 1,
        createdAtMs: at,
      });
      await bucket.create(`order.${id}`, encodeRecord(record));
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, writer));
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

function spread(label: string, ms: number[]): string {
  const sorted = [...ms].sort((a, b) => a - b);
  const f = (x: number) => (x < 10 ? x.toFixed(2) : x.toFixed(0));
  return `| ${label} | ${f(sorted[Math.floor(sorted.length / 2)]!)} | ${f(sorted[0]!)} – ${f(sorted.at(-1)!)} |`;
}

async function bucketSize(): Promise<string> {
  const status = await bucket.kv.status();
  return `${(status.size / 1e6).toFixed(1)} MB, ${status.values} messages`;
}

const seedMs = await timed(seed);
console.log(`seeded ${ORDERS} orders (+ ${ORDERS} claims) in ${(seedMs / 1000).toFixed(1)} s`);
const sizeBefore = await bucketSize();

const rows: string[] = [];
const scanPage: number[] = [];
const scanRecovery: number[] = [];
const indexPage: number[] = [];
const indexBuild: number[] = [];
const indexRecovery: number[] = [];
for (let run = 0; run < RUNS; run++) {
  // A fresh store each run: what a restarted replica has (no cache of terminal orders).
  const store = new OrderStore(bucket);
  scanPage.push(
    await timed(() => listOrdersByScan(store, { pageSize: PAGE, after: '', state: undefined })),
  );
  scanRecovery.push(
    await timed(async () => {
      const fresh = new OrderStore(bucket);
      const found = [];
      for (const id of await fresh.listIds()) {
        const record = await fresh.get(id);
        if (record && record.order.state === OrderState.ORDER_STATE_PENDING) found.push(record);
      }
      if (found.length !== ORDERS / 100) throw new Error(`scan found ${found.length} pending`);
    }),
  );
  const index = new OrderIndexFeed({ kv: bucket.kv, connection: client.connection, logger });
  indexBuild.push(await timed(() => index.start()));
  indexRecovery.push(
    await timed(async () => {
      const ids = index.current!.unfinishedIds();
      const records = await Promise.all(ids.map((id) => store.get(id)));
      if (records.length !== ORDERS / 100) throw new Error(`index found ${records.length}`);
    }),
  );
  indexPage.push(
    await timed(() =>
      listOrders({ store, index }, { pageSize: PAGE, after: '', state: undefined }),
    ),
  );
  if (run === RUNS - 1) {
    // Expiry: every claim of a FULFILLED order (retention 0 here), pass after pass until none is
    // left. Their delete markers stay until they are 30 minutes old (claim-expiry.ts).
    const expiry = new ClaimExpiry({ store, index }, 0);
    let passes = 0;
    const expiryMs = await timed(async () => {
      while ((await expiry.run()).deleted > 0) passes += 1;
    });
    // The index has seen every delete once only the PENDING orders' claims are left.
    while (index.current!.claims().length > ORDERS / 100) await sleep(50);
    rows.push(
      `claim expiry: ${ORDERS * 0.99} claims deleted in ${passes} passes, ${(expiryMs / 1000).toFixed(1)} s; bucket then ${await bucketSize()} (delete markers included)`,
    );
    // What the passes do once the markers are 30 minutes old, done now.
    const purge = new ClaimExpiry({ store, index }, 0, 0);
    let purged = 0;
    const purgeMs = await timed(async () => {
      for (;;) {
        const { markersPurged } = await purge.run();
        if (markersPurged === 0) break;
        purged += markersPurged;
      }
    });
    rows.push(
      `${purged} delete markers purged in ${(purgeMs / 1000).toFixed(1)} s: bucket ${await bucketSize()}`,
    );
  }
  await index.stop();
  console.log(
    `run ${run + 1}: scan page ${scanPage.at(-1)!.toFixed(0)} ms, scan recovery ${scanRecovery.at(-1)!.toFixed(0)} ms, ` +
      `index build ${indexBuild.at(-1)!.toFixed(0)} ms, index recovery ${indexRecovery.at(-1)!.toFixed(1)} ms, index page ${indexPage.at(-1)!.toFixed(2)} ms`,
  );
}

console.log(`\n${ORDERS} orders, ${RUNS} runs; median and range, in ms\n`);
console.log('| measurement | median | min – max |\n| --- | ---: | ---: |');
console.log(spread(`list a page of ${PAGE}, full scan (before)`, scanPage));
console.log(spread(`list a page of ${PAGE}, index (after)`, indexPage));
console.log(spread('recovery finds its orders after a restart, full scan (before)', scanRecovery));
console.log(spread('restart: build the index from the watch (after)', indexBuild));
console.log(spread('recovery finds its orders from the built index (after)', indexRecovery));
console.log(`\nbucket before expiry: ${sizeBefore}`);
for (const row of rows) console.log(row);
await client.drain();
await nats.dispose();
