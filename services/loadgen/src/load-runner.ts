// The load: orders placed and `cat.state` read at a steady pace, every call recorded as an SLI.
import { status, type ServiceError } from '@grpc/grpc-js';
import { Gauge, type Registry } from 'prom-client';
import { catfeederV1, type inventoryV1, ordersV1 } from '@catmesh/proto';
import { callUnary, type Logger } from '@catmesh/runtime';
import { startPacer } from './pacer.js';
import type { Operation, Outcome, SliRecorder } from './sli-recorder.js';

export interface LoadOptions {
  readonly orders: ordersV1.OrderServiceClient;
  /** Read in turn, one per read, so every replica's availability shows. */
  readonly catFeeders: readonly catfeederV1.CatFeederServiceClient[];
  /** Restocked when orders come back out of stock; undefined: never. */
  readonly inventory?: inventoryV1.InventoryServiceClient;
  readonly orderRate: number;
  readonly readRate: number;
  readonly concurrency: number;
  readonly sku: string;
  readonly restockUnits: number;
  readonly deadlineMs: number;
  /** Makes idempotency keys and restock ids unique to this run. */
  readonly runId: string;
  readonly recorder: SliRecorder;
  readonly registry: Registry;
  readonly logger: Logger;
}

export interface RunningLoad {
  /** Stops the pace and waits for the calls in flight. */
  stop(): Promise<void>;
}

export function startLoad(options: LoadOptions): RunningLoad {
  const { recorder, logger } = options;
  const inFlight = new Set<Promise<void>>();
  const catFull = new Gauge({
    name: 'loadgen_cat_state_full',
    help: '1 when the last cat.state read said full, 0 when it said anything else.',
    registers: [options.registry],
  });
  let orders = 0;
  let reads = 0;
  let restocks = 0;
  let restocking: Promise<void> | undefined;
  /** Orders started before the last restock completed do not ask for another. */
  let restockedAt = 0;

  const launch = (operation: Operation, call: () => Promise<Outcome>) => {
    if (inFlight.size >= options.concurrency) {
      recorder.skipped(operation);
      return;
    }
    const startedAt = performance.now();
    const done = call()
      .catch((error: unknown) => outcomeOf(error))
      .then((outcome) =>
        recorder.record(operation, outcome, (performance.now() - startedAt) / 1000),
      )
      .finally(() => inFlight.delete(done));
    inFlight.add(done);
  };

  const placeOrder = async (): Promise<Outcome> => {
    const startedAt = Date.now();
    const { order } = await callUnary(
      options.orders,
      'placeOrder',
      {
        idempotencyKey: `${options.runId}-${++orders}`,
        customer: 'loadgen',
        sku: options.sku,
        quantity: 1,
      },
      { deadlineMs: options.deadlineMs },
    );
    if (order?.state === ordersV1.OrderState.ORDER_STATE_FAILED) return 'failed';
    if (order?.state !== ordersV1.OrderState.ORDER_STATE_REJECTED) return 'ok';
    if (order.failureReason === 'out of stock' && startedAt >= restockedAt) restock();
    return 'rejected';
  };

  const restock = () => {
    if (!options.inventory || restocking) return;
    const restockId = `${options.runId}-restock-${++restocks}`;
    restocking = callUnary(
      options.inventory,
      'restock',
      { sku: options.sku, quantity: options.restockUnits, restockId },
      { deadlineMs: options.deadlineMs },
    )
      .then(({ stock }) => logger.info({ restockId, stock }, 'out of stock: restocked'))
      .catch((err: unknown) => logger.warn({ err, restockId }, 'restock failed'))
      .finally(() => {
        restocking = undefined;
        restockedAt = Date.now();
      });
  };

  const readCatState = async (): Promise<Outcome> => {
    const client = options.catFeeders[reads++ % options.catFeeders.length]!;
    const { kv } = await callUnary(
      client,
      'get',
      { key: 'cat.state', consistency: catfeederV1.Consistency.CONSISTENCY_UNSPECIFIED },
      { deadlineMs: options.deadlineMs },
    );
    catFull.set(kv?.value.toString() === 'full' ? 1 : 0);
    return 'ok';
  };

  const pacers = [startPacer(options.orderRate, () => launch('place_order', placeOrder))];
  if (options.catFeeders.length > 0) {
    pacers.push(startPacer(options.readRate, () => launch('read_cat_state', readCatState)));
  }
  return {
    stop: async () => {
      for (const pacer of pacers) pacer.stop();
      await Promise.all([...inFlight, restocking]);
    },
  };
}

/** `unavailable`, `deadline_exceeded`, ...; `error` for a failure that is not a gRPC status. */
function outcomeOf(error: unknown): Outcome {
  const code = (error as Partial<ServiceError>).code;
  const name = typeof code === 'number' ? status[code] : undefined;
  return name ? name.toLowerCase() : 'error';
}
