// Prometheus metrics of the inventory. The stock gauges follow the bucket itself (a Key/Value
// watch), so every replica reports the same, current stock, whichever replica changed it.
import type { Logger } from '@catmesh/runtime';
import { Counter, Gauge, type Registry } from 'prom-client';
import type { InventoryObserver } from './inventory-store.js';
import type { JsonBucket } from '@catmesh/runtime';
import { STOCK_KEY_FILTER } from './inventory-store.js';
import type { StockDocument } from './stock-document.js';

export interface InventoryMetrics {
  readonly observer: InventoryObserver;
  /** Keeps the stock gauges current until `stop()`. */
  watchStock(bucket: JsonBucket): Promise<{ stop(): Promise<void> }>;
}

export function createInventoryMetrics(registry: Registry, logger: Logger): InventoryMetrics {
  const stock = new Gauge({
    name: 'inventory_stock_units',
    help: 'Units of a SKU by state (available, reserved, committed).',
    labelNames: ['sku', 'state'],
    registers: [registry],
  });
  const reservations = new Counter({
    name: 'inventory_reservations_total',
    help: 'Reservations decided by this replica, by outcome (replays of a decision not counted).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of ['reserved', 'out_of_stock']) reservations.inc({ outcome }, 0);
  const conflicts = new Counter({
    name: 'inventory_cas_conflicts_total',
    help: 'Compare-and-set writes that lost a race and were retried, by operation.',
    labelNames: ['operation'],
    registers: [registry],
  });

  return {
    observer: {
      reserveDecided: (outcome) => reservations.inc({ outcome }),
      conflict: (operation) => conflicts.inc({ operation }),
      compactionFailed: (sku, err) =>
        logger.warn({ err, sku }, 'compaction failed; the next write retries it'),
    },
    async watchStock(bucket) {
      const updates = await bucket.kv.watch({ key: STOCK_KEY_FILTER, ignoreDeletes: true });
      const done = (async () => {
        for await (const entry of updates) {
          const doc = entry.json<StockDocument>();
          stock.set({ sku: doc.sku, state: 'available' }, doc.available);
          stock.set({ sku: doc.sku, state: 'reserved' }, doc.reserved);
          stock.set({ sku: doc.sku, state: 'committed' }, doc.committed);
        }
      })().catch((err: unknown) => logger.warn({ err }, 'stock watch ended'));
      return {
        stop: async () => {
          updates.stop();
          await done;
        },
      };
    },
  };
}
