import type { inventoryV1 } from '@catmesh/proto';
import type { Logger, NatsClient } from '@catmesh/runtime';
import type { CatFeederClient } from './cat-feeder-client.js';
import type { CatHunger } from './cat-hunger.js';
import type { OrderIndexFeed } from './order-index-feed.js';
import type { OrderStore } from './order-store.js';
import type { OrdersMetrics } from './orders-metrics.js';

/** What the steps of an order's life (place, reserve, fulfil, recover) work with. */
export interface OrderDeps {
  readonly store: OrderStore;
  /** Every order, kept current from the bucket's watch: pages and recovery's candidates. */
  readonly index: OrderIndexFeed;
  readonly nats: NatsClient;
  /** A kit client that retries Reserve, Commit and Release (all idempotent by order id). */
  readonly inventory: inventoryV1.InventoryServiceClient;
  readonly inventoryDeadlineMs: number;
  /** Absent when no cat-feeder is configured: orders are fulfilled without feeding the cat. */
  readonly feeder?: { readonly client: CatFeederClient; readonly hunger: CatHunger };
  readonly fulfilTimeoutMs: number;
  readonly logger: Logger;
  readonly metrics: OrdersMetrics;
}
