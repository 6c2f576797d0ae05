// Recovery: finds orders left behind (a crash between two steps, an outage of inventory, NATS or
// the cat-feeder) and drives them on: publishes their outbox, reserves PENDING orders, fulfils
// RESERVED ones. Every replica runs it at start and periodically; they may overlap, because
// every step is idempotent and every change a compare-and-set.
import { ordersV1 } from '@catmesh/proto';
import { fulfilOrder } from './fulfil-order.js';
import type { OrderDeps } from './order-deps.js';
import { isTerminal, type OrderRecord } from './order-record.js';
import { publishOutbox } from './order-transitions.js';
import { reserveStock } from './reserve-stock.js';
import { inNewTrace } from './traced.js';

const { OrderState } = ordersV1;

/** Orders driven at once: bounded, so an outage does not turn recovery into a flood. */
const CONCURRENCY = 8;

export interface RecoveryPass {
  /** Orders that recovery took over. */
  readonly recovered: number;
  /** Of those, the ones it could not move on this time. */
  readonly failed: number;
}

/**
 * One pass over the orders that may need it; orders untouched for less than `afterMs` are left to
 * their owner. The candidates come from the index (only unfinished orders: O(unfinished), not
 * O(all orders)); before it is built, from a full scan. Each is read again from the bucket, so a
 * lagging index costs at most a skipped or wasted candidate, never a wrong step.
 */
export async function recoverOrders(deps: OrderDeps, afterMs: number): Promise<RecoveryPass> {
  const stale: OrderRecord[] = [];
  const now = Date.now();
  const candidates = deps.index.current?.unfinishedIds() ?? (await deps.store.listIds());
  for (const id of candidates) {
    const record = await deps.store.get(id);
    if (!record || (isTerminal(record.order.state) && record.outbox.length === 0)) continue;
    if (now - record.order.updatedAtUnixMs >= afterMs) stale.push(record);
  }
  let failed = 0;
  const queue = [...stale];
  const worker = async () => {
    for (let record = queue.shift(); record; record = queue.shift()) {
      try {
        await recoverOrder(deps, record);
      } catch (err) {
        failed += 1;
        deps.logger.warn(
          { err, orderId: record.order.id },
          'recovery could not move the order yet',
        );
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (stale.length > 0) {
    deps.logger.info({ recovered: stale.length, failed }, 'recovery pass over orders left behind');
  }
  return { recovered: stale.length, failed };
}

function recoverOrder(deps: OrderDeps, record: OrderRecord): Promise<OrderRecord> {
  const { id, state } = record.order;
  return inNewTrace('recover order', { 'order.id': id, 'order.state': state }, async () => {
    let current = record;
    if (current.outbox.length > 0) {
      deps.metrics.recovered('publish');
      current = await publishOutbox(deps, current);
    }
    if (state === OrderState.ORDER_STATE_PENDING) {
      deps.metrics.recovered('reserve');
      current = await reserveStock(deps, current);
    }
    if (current.order.state === OrderState.ORDER_STATE_RESERVED) {
      deps.metrics.recovered('fulfil');
      current = await fulfilOrder(deps, current);
    }
    return current;
  });
}
