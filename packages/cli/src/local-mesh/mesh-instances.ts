import { fileURLToPath } from 'node:url';
import type { InstanceSpec } from './instance-spec.js';
import type { ListenPorts, PortPlan } from './port-plan.js';
import type { StateDir } from './state-dir.js';

/** Every instance binds loopback only: a local mesh is not reachable from the network. */
export const MESH_HOST = '127.0.0.1';

/** The stock inventory restocks once ever (restock id `seed-<sku>`), so a restart adds none. */
export const SEED_STOCK: Readonly<Record<string, number>> = { kibble: 1000, tuna: 200 };

/** The repository root, from this module in packages/cli/{src,dist}/local-mesh/. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

export interface MeshOptions {
  readonly plan: PortPlan;
  readonly state: StateDir;
  readonly loadgen: boolean;
  /** The dashboard polls every instance several times a second: off for a mesh without one. */
  readonly dashboard: boolean;
}

/**
 * The mesh as a table: one entry per service, each saying how to start it (command and the
 * environment its config reads, from the port plan), how to know it serves, and what it needs
 * first. Adding a service, or a variable, is an edit here and nowhere else.
 */
export function meshInstances({
  plan,
  state,
  loadgen,
  dashboard: withDashboard,
}: MeshOptions): InstanceSpec[] {
  const natsUrl = `nats://${MESH_HOST}:${plan.nats.main}`;
  const catFeederNames = plan.catFeeders.map((replica) => `cat-feeder-${replica.id}`);
  const catFeederEndpoints = plan.catFeeders.map(address).join(',');
  const inventoryEndpoint = address(plan.inventory);
  const instances: InstanceSpec[] = [
    {
      name: 'nats',
      service: 'nats',
      command: 'nats-server',
      args: [
        ...['-js', '-a', MESH_HOST, '-p', String(plan.nats.main)],
        ...['-m', String(plan.nats.metrics), '-sd', state.data('nats'), '-n', 'catmesh-nats'],
      ],
      env: {},
      requires: {
        program: 'nats-server',
        install: 'apt-get install nats-server (Debian, Ubuntu) or brew install nats-server (macOS)',
      },
      ports: plan.nats,
      health: {
        kind: 'http',
        url: `http://${MESH_HOST}:${plan.nats.metrics}/healthz?js-enabled-only=true`,
      },
      dependsOn: [],
    },
    ...plan.catFeeders.map((replica) =>
      catmeshService('cat-feeder', `cat-feeder-${replica.id}`, replica, ['nats'], {
        CATMESH_NODE_ID: String(replica.id),
        CATMESH_PEERS: plan.catFeeders.map((peer) => `${peer.id}=${address(peer)}`).join(','),
        CATMESH_DATA_DIR: state.data(`cat-feeder-${replica.id}`),
        CATMESH_NATS_URL: natsUrl,
      }),
    ),
    catmeshService('inventory', 'inventory', plan.inventory, ['nats'], {
      CATMESH_NATS_URL: natsUrl,
      CATMESH_INVENTORY_SEED: Object.entries(SEED_STOCK)
        .map(([sku, units]) => `${sku}=${units}`)
        .join(','),
    }),
    catmeshService('orders', 'orders', plan.orders, ['nats', 'inventory', ...catFeederNames], {
      CATMESH_NATS_URL: natsUrl,
      CATMESH_INVENTORY_ENDPOINT: inventoryEndpoint,
      CATMESH_CATFEEDER_ENDPOINTS: catFeederEndpoints,
    }),
  ];
  if (loadgen) {
    instances.push(
      catmeshService('loadgen', 'loadgen', plan.loadgen, ['orders'], {
        CATMESH_ORDERS_ENDPOINT: address(plan.orders),
        CATMESH_CATFEEDER_ENDPOINTS: catFeederEndpoints,
        CATMESH_INVENTORY_ENDPOINT: inventoryEndpoint,
      }),
    );
  }
  if (!withDashboard) return instances;
  // Every service waits for the dashboard, its trace receiver, and stops before it; the table
  // still lists it last, where `catmesh status` shows it.
  const receiver = dashboard(plan, state, instances);
  return [
    ...instances.map((spec) =>
      spec.service === 'nats' ? spec : { ...spec, dependsOn: [...spec.dependsOn, receiver.name] },
    ),
    receiver,
  ];
}

/**
 * The dashboard polls every other instance (Status, /metrics, fault admin API) and shows a
 * source that is down as down, so it needs none of them. The others send it their traces, so
 * it starts first and stops last: a service that stops flushes its last spans to it, and one
 * whose receiver is gone waits out its exporter's retries (about 8 s) before it exits.
 */
function dashboard(plan: PortPlan, state: StateDir, others: readonly InstanceSpec[]): InstanceSpec {
  const catmesh = others.filter((spec) => spec.service !== 'nats');
  const named = (value: (spec: InstanceSpec) => string | undefined) =>
    catmesh.flatMap((spec) => {
      const found = value(spec);
      return found === undefined ? [] : [`${spec.name}=${found}`];
    });
  const spec = catmeshService('dashboard', 'dashboard', plan.dashboard, [], {
    CATMESH_DASHBOARD_HOST: MESH_HOST,
    CATMESH_DASHBOARD_PORT: String(plan.dashboard.main),
    CATMESH_DASHBOARD_REPLICAS: plan.catFeeders.map((r) => `${r.id}=${address(r)}`).join(','),
    CATMESH_DASHBOARD_METRICS: named((spec) => spec.metricsUrl).join(','),
    CATMESH_DASHBOARD_FAULT_ADMINS: named((spec) =>
      spec.ports.admin === undefined ? undefined : `${MESH_HOST}:${spec.ports.admin}`,
    ).join(','),
    CATMESH_DASHBOARD_REPORTS_DIR: state.reportsDir,
    CATMESH_DASHBOARD_NETWORK_RULES: state.networkRules,
  });
  return {
    ...spec,
    health: { kind: 'http', url: `http://${MESH_HOST}:${plan.dashboard.metrics}/readyz` },
  };
}

/** `127.0.0.1:7101`: an instance's gRPC address. */
export function address(ports: ListenPorts): string {
  return `${MESH_HOST}:${ports.main}`;
}

/** A catmesh service: its built main.js under node, configured by the runtime kit's variables. */
function catmeshService(
  service: string,
  name: string,
  ports: ListenPorts,
  dependsOn: readonly string[],
  env: Readonly<Record<string, string>>,
): InstanceSpec {
  const main = `${REPO_ROOT}services/${service}/dist/main.js`;
  return {
    name,
    service,
    command: process.execPath,
    // A small young generation: five or six Node processes share a laptop's memory.
    args: ['--max-semi-space-size=8', main],
    env: {
      CATMESH_INSTANCE_ID: name,
      CATMESH_GRPC_HOST: MESH_HOST,
      CATMESH_GRPC_PORT: String(ports.main),
      CATMESH_METRICS_PORT: String(ports.metrics),
      ...(ports.admin !== undefined && { CATMESH_ADMIN_PORT: String(ports.admin) }),
      ...env,
    },
    requires: {
      file: main,
      build: 'npx tsc -b tsconfig.build.json (or make build), from the repository root',
    },
    ports,
    health: { kind: 'grpc', address: address(ports) },
    metricsUrl: `http://${MESH_HOST}:${ports.metrics}/metrics`,
    dependsOn,
  };
}
