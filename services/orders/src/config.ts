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

export function ordersConfigSchema() {
  return {
    ...serviceConfigSchema({ serviceName: 'orders', grpcPort: 7301, metricsPort: 9301 }),
    natsUrl: envVar('CATMESH_NATS_URL', envTypes.url({ schemes: ['nats', 'tls'] }), {
      default: 'nats://127.0.0.1:4222',
    }),
    /** JetStream replicas of the orders bucket and stream (1 on a single nats-server). */
    natsReplicas: envVar('CATMESH_ORDERS_NATS_REPLICAS', envTypes.int({ min: 1, max: 5 }), {
      default: 1,
    }),
    inventoryEndpoint: envVar('CATMESH_INVENTORY_ENDPOINT', endpoint(), {
      default: '127.0.0.1:7201',
    }),
    /** Deadline of one inventory call (retries of idempotent calls included). */
    inventoryDeadlineMs: envVar(
      'CATMESH_INVENTORY_DEADLINE',
      envTypes.duration({ minMs: 10, maxMs: 60_000 }),
      { default: 3_000 },
    ),
    /** Cat-feeder replicas, any of which takes writes; unset: orders are fulfilled unfed. */
    catFeederEndpoints: envVar('CATMESH_CATFEEDER_ENDPOINTS', envTypes.list(endpoint()), {
      optional: true,
    }),
    /** How long a fed cat stays `full`. */
    hungerAfterMs: envVar('CATMESH_HUNGER_AFTER', envTypes.duration({ minMs: 1 }), {
      default: 60_000,
    }),
    /** How often each replica looks whether the cat is due to be hungry again. */
    hungerCheckMs: envVar('CATMESH_HUNGER_CHECK_EVERY', envTypes.duration({ minMs: 10 }), {
      default: 1_000,
    }),
    /** How often each replica looks for orders left behind (by a crash, an outage). */
    recoveryEveryMs: envVar('CATMESH_RECOVERY_EVERY', envTypes.duration({ minMs: 10 }), {
      default: 15_000,
    }),
    /** How long an order may sit in PENDING or RESERVED before recovery takes it over. */
    recoveryAfterMs: envVar('CATMESH_RECOVERY_AFTER', envTypes.duration({ minMs: 1 }), {
      default: 30_000,
    }),
    /** How long after an order is final a retry with its idempotency key still finds it. */
    idempotencyRetentionMs: envVar(
      'CATMESH_IDEMPOTENCY_RETENTION',
      envTypes.duration({ minMs: 0 }),
      { default: 86_400_000 },
    ),
    /** How long a reserved order may keep failing to be fulfilled before it is FAILED. */
    fulfilTimeoutMs: envVar('CATMESH_FULFIL_TIMEOUT', envTypes.duration({ minMs: 1 }), {
      default: 300_000,
    }),
  };
}

export type OrdersConfig = ConfigOf<ReturnType<typeof ordersConfigSchema>>;
