import { status } from '@grpc/grpc-js';
import { RpcStatusError, type Logger } from '@catmesh/runtime';
import type { InventoryStore } from './inventory-store.js';

/**
 * Restocks each SKU of `seed` under the restock id `seed-<sku>`: applied once ever, however many
 * replicas start and however often, so a demo mesh has food to sell from its first minute.
 */
export async function seedStock(
  store: InventoryStore,
  seed: ReadonlyMap<string, number>,
  logger: Logger,
): Promise<void> {
  for (const [sku, units] of seed) {
    try {
      const stock = await store.restock(`seed-${sku}`, sku, units);
      logger.info({ sku, seed: units, stock }, 'stock seeded (once ever)');
    } catch (err) {
      if (!(err instanceof RpcStatusError && err.code === status.FAILED_PRECONDITION)) throw err;
      // Seeded before with another number of units: a seed applies once, whatever it says later.
      logger.warn({ sku, seed: units, reason: err.message }, 'stock seeded before; not again');
    }
  }
}
