import {
  envTypes,
  envVar,
  serviceConfigSchema,
  type ConfigOf,
  type EnvType,
} from '@catmesh/runtime';
import { MAX_QUANTITY, MAX_SKU_LENGTH } from './request-validation.js';

/** Stock put in at start: `kibble=100,tuna=20`. */
export type StockSeed = ReadonlyMap<string, number>;

const SEED_ITEM = /^([A-Za-z0-9_-]+)=(\d+)$/;

function stockSeed(): EnvType<StockSeed> {
  return {
    expected: `a list of sku=units separated by "," (units 1-${MAX_QUANTITY})`,
    parse(raw) {
      const seed = new Map<string, number>();
      for (const part of raw.split(',')) {
        const match = SEED_ITEM.exec(part.trim());
        const units = Number(match?.[2]);
        if (!match || match[1]!.length > MAX_SKU_LENGTH || units < 1 || units > MAX_QUANTITY) {
          return undefined;
        }
        seed.set(match[1]!, units);
      }
      return seed;
    },
  };
}

export function inventoryConfigSchema() {
  return {
    ...serviceConfigSchema({ serviceName: 'inventory', grpcPort: 7201, metricsPort: 9201 }),
    natsUrl: envVar('CATMESH_NATS_URL', envTypes.url({ schemes: ['nats', 'tls'] }), {
      default: 'nats://127.0.0.1:4222',
    }),
    /** JetStream replicas of the bucket (1 on a single nats-server, 3 in a NATS cluster). */
    kvReplicas: envVar('CATMESH_INVENTORY_KV_REPLICAS', envTypes.int({ min: 1, max: 5 }), {
      default: 1,
    }),
    /**
     * Restocked once ever at start (restock id `seed-<sku>`, so restarts and other replicas do not
     * add it again); unset adds nothing.
     */
    seed: envVar('CATMESH_INVENTORY_SEED', stockSeed(), { optional: true }),
    /** Settled entries a stock document holds before they are archived to their claims. */
    compactAt: envVar('CATMESH_INVENTORY_COMPACT_AT', envTypes.int({ min: 0, max: 10_000 }), {
      default: 64,
    }),
  };
}

export type InventoryConfig = ConfigOf<ReturnType<typeof inventoryConfigSchema>>;
