import {
  envTypes,
  envVar,
  serviceConfigSchema,
  type ConfigOf,
  type EnvType,
} from '@catmesh/runtime';

/** `host:port` or `[v6]:port`, as a gRPC target. */
function endpoint(): EnvType<string> {
  return envTypes.string({
    pattern: /^(?:[A-Za-z0-9_.-]+|\[[0-9A-Fa-f:.]+\]):(?:[1-9]\d{0,3}|[1-5]\d{4}|6[0-5]\d{3})$/,
    description: 'host:port',
  });
}

/** Operations per second: 0 (off) up to 10,000, fractions allowed. */
function rate(): EnvType<number> {
  return {
    expected: 'a number of operations per second, 0-10000 (0 turns it off)',
    parse(raw) {
      if (!/^\d+(?:\.\d+)?$/.test(raw)) return undefined;
      const value = Number(raw);
      return value <= 10_000 ? value : undefined;
    },
  };
}

export function loadgenConfigSchema() {
  return {
    ...serviceConfigSchema({ serviceName: 'loadgen', grpcPort: 7401, metricsPort: 9401 }),
    ordersEndpoint: envVar('CATMESH_ORDERS_ENDPOINT', endpoint(), { default: '127.0.0.1:7301' }),
    /** Orders placed per second (open loop: the pace does not wait for answers). */
    orderRate: envVar('CATMESH_LOAD_RATE', rate(), { default: 10 }),
    /** Calls in flight at most; a due call beyond it is skipped and counted. */
    concurrency: envVar('CATMESH_LOAD_CONCURRENCY', envTypes.int({ min: 1, max: 10_000 }), {
      default: 16,
    }),
    sku: envVar('CATMESH_LOAD_SKU', envTypes.string({ pattern: /^[A-Za-z0-9_-]{1,64}$/ }), {
      default: 'kibble',
    }),
    /** Cat-feeder replicas to read `cat.state` from, in turn; unset: no reads. */
    catFeederEndpoints: envVar('CATMESH_CATFEEDER_ENDPOINTS', envTypes.list(endpoint()), {
      optional: true,
    }),
    readRate: envVar('CATMESH_LOAD_READ_RATE', rate(), { default: 5 }),
    /** Where to restock when orders come back out of stock; unset: never restock. */
    inventoryEndpoint: envVar('CATMESH_INVENTORY_ENDPOINT', endpoint(), { optional: true }),
    restockUnits: envVar('CATMESH_LOAD_RESTOCK_UNITS', envTypes.int({ min: 1, max: 1_000_000 }), {
      default: 1_000,
    }),
    deadlineMs: envVar('CATMESH_LOAD_DEADLINE', envTypes.duration({ minMs: 1, maxMs: 600_000 }), {
      default: 5_000,
    }),
    reportEveryMs: envVar('CATMESH_LOAD_REPORT_EVERY', envTypes.duration({ minMs: 100 }), {
      default: 10_000,
    }),
  };
}

export type LoadgenConfig = ConfigOf<ReturnType<typeof loadgenConfigSchema>>;
