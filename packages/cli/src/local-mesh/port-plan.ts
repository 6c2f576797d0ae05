/**
 * Where every instance of a local mesh listens, derived from one base port so that a second mesh
 * (or a test) moves all of them at once with `--port-base`. With the default base, 7100, each
 * service gets the ports it defaults to on its own (cat-feeder 7101 and 9101, inventory 7201,
 * orders 7301, loadgen 7401, the dashboard's page 7501), so the CLI's own defaults (`catmesh kv` on 127.0.0.1:7101) fit.
 * The fault admin port (catmesh.faults.v1.FaultAdminService) is the gRPC port + 1000, the
 * services' own default too.
 *
 * | instance        | gRPC / client   | fault admin      | metrics / monitoring |
 * | --------------- | --------------- | ---------------- | -------------------- |
 * | nats            | base + 22       | -                | base + 2022          |
 * | cat-feeder-N    | base + N (1..5) | base + 1000 + N  | base + 2000 + N      |
 * | inventory       | base + 101      | base + 1101      | base + 2101          |
 * | orders          | base + 201      | base + 1201      | base + 2201          |
 * | loadgen         | base + 301      | base + 1301      | base + 2301          |
 * | dashboard       | base + 401 (page) | -              | base + 2401          |
 */
export const DEFAULT_PORT_BASE = 7100;
export const REPLICA_COUNTS = [3, 5] as const;
export type ReplicaCount = (typeof REPLICA_COUNTS)[number];

/** The metrics (or monitoring) port of an instance is this far above its main port. */
const METRICS_OFFSET = 2000;
/** The fault admin port of a catmesh instance is this far above its gRPC port. */
const ADMIN_OFFSET = 1000;
/** The highest offset in the plan; a base above 65535 minus this cannot hold the mesh. */
export const PORT_PLAN_SPAN = 401 + METRICS_OFFSET;

export interface ListenPorts {
  /** gRPC (NATS: the client port). */
  readonly main: number;
  /** Prometheus metrics and health (NATS: its HTTP monitoring port). */
  readonly metrics: number;
  /** The fault admin API of the `app` mechanism (catmesh services only, not NATS). */
  readonly admin?: number;
}

export interface PortPlan {
  readonly base: number;
  readonly nats: ListenPorts;
  /** Replica id (1-based) → its ports, in id order. */
  readonly catFeeders: readonly (ListenPorts & { readonly id: number })[];
  readonly inventory: ListenPorts;
  readonly orders: ListenPorts;
  readonly loadgen: ListenPorts;
  /** The dashboard: its page on `main` (HTTP, not gRPC), its own /metrics and /readyz. */
  readonly dashboard: ListenPorts;
}

export function planPorts(base: number, replicas: ReplicaCount): PortPlan {
  const at = (offset: number): ListenPorts => ({
    main: base + offset,
    admin: base + ADMIN_OFFSET + offset,
    metrics: base + METRICS_OFFSET + offset,
  });
  return {
    base,
    nats: { main: base + 22, metrics: base + METRICS_OFFSET + 22 },
    catFeeders: Array.from({ length: replicas }, (_, index) => ({
      id: index + 1,
      ...at(index + 1),
    })),
    inventory: at(101),
    orders: at(201),
    loadgen: at(301),
    dashboard: { main: base + 401, metrics: base + METRICS_OFFSET + 401 },
  };
}
