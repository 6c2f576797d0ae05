// Composition root of the load generator: config, telemetry, clients of the shop and the
// cat-feeder, the load itself, the SLI metrics and the periodic one-line summary.
import { startFaultAdmin } from '@catmesh/faults';
import { catfeederV1, inventoryV1, ordersV1 } from '@catmesh/proto';
import {
  createClient,
  GrpcServer,
  loadConfigOrExit,
  serveService,
  startServiceProcess,
} from '@catmesh/runtime';
import { loadgenConfigSchema } from './config.js';
import { startLoad } from './load-runner.js';
import { SliRecorder } from './sli-recorder.js';
import { summaryFields, summaryLine } from './summary-line.js';

const config = loadConfigOrExit(loadgenConfigSchema(), process.env);
const base = startServiceProcess(config);
const { logger, registry } = base;
const recorder = new SliRecorder(registry);
const { traffic, shutdownStep } = await startFaultAdmin({ config, logger, registry });

// The clients retry what is safe to retry, as a real client would: the SLIs are what a
// customer sees. PlaceOrder is safe to repeat (same idempotency key, same order).
const orders = createClient(ordersV1.OrderServiceClient, config.ordersEndpoint, {
  registry,
  idempotent: ['placeOrder'],
  defaultDeadlineMs: config.deadlineMs,
  traffic,
});
const catFeeders = (config.catFeederEndpoints ?? []).map((address) =>
  createClient(catfeederV1.CatFeederServiceClient, address, {
    registry,
    idempotent: ['get'],
    defaultDeadlineMs: config.deadlineMs,
    traffic,
  }),
);
const inventory =
  config.inventoryEndpoint === undefined
    ? undefined
    : createClient(inventoryV1.InventoryServiceClient, config.inventoryEndpoint, {
        registry,
        idempotent: ['restock'],
        defaultDeadlineMs: config.deadlineMs,
        traffic,
      });

// Health only: loadgen serves no API, but answers grpc.health.v1 like every catmesh process.
const server = new GrpcServer({ host: config.grpcHost, port: config.grpcPort, logger, registry });
const load = startLoad({
  orders,
  catFeeders,
  ...(inventory && { inventory }),
  orderRate: config.orderRate,
  readRate: config.readRate,
  concurrency: config.concurrency,
  sku: config.sku,
  restockUnits: config.restockUnits,
  deadlineMs: config.deadlineMs,
  runId: `${config.instanceId}-${Date.now().toString(36)}`,
  recorder,
  registry,
  logger,
});
let windowStart = performance.now();
const report = setInterval(() => {
  const now = performance.now();
  const seconds = (now - windowStart) / 1000;
  const window = recorder.takeWindow();
  logger.info({ sli: summaryFields(window, seconds), seconds }, summaryLine(window, seconds));
  windowStart = now;
}, config.reportEveryMs);

const { port } = await serveService({
  ...base,
  config,
  server,
  beforeGrpcDrain: [
    {
      name: 'load: stop',
      run: async () => {
        clearInterval(report);
        await load.stop();
        for (const client of [orders, ...catFeeders, inventory]) client?.close();
      },
    },
  ],
  lastSteps: [shutdownStep],
});
logger.info(
  {
    port,
    orders: config.ordersEndpoint,
    orderRate: config.orderRate,
    concurrency: config.concurrency,
    catFeeder: config.catFeederEndpoints ?? [],
    readRate: config.readRate,
  },
  'loadgen running',
);
