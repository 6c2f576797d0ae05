// The snapshot pushed to the page, from what the sources last said. Pure: the sources hand in
// plain data, so a test can build a snapshot with any source down.
import type {
  CatStateView,
  EdgeView,
  ElectionEvent,
  FaultView,
  InstanceView,
  MeshSnapshot,
  OrderTraceView,
  ReplicaView,
  SlisView,
  SourceStatus,
} from './dashboard-snapshot.js';
import { leaderOf } from './election-timeline.js';
import type { InstanceRates } from './instance-metrics.js';

export interface InstanceInput {
  readonly name: string;
  readonly service: string;
  readonly metrics: SourceStatus;
  /** Undefined while down, or before two scrapes. */
  readonly rates?: InstanceRates;
}

export interface SnapshotInputs {
  readonly nowMs: number;
  readonly instances: readonly InstanceInput[];
  readonly replicas: readonly ReplicaView[];
  readonly timeline: readonly ElectionEvent[];
  readonly raftPolledAtMs?: number;
  readonly faultSources: readonly {
    readonly status: SourceStatus;
    readonly faults: readonly FaultView[];
  }[];
  readonly slis: SlisView;
  readonly catState: CatStateView;
  readonly orders: readonly OrderTraceView[];
}

/** The group of cat-feeder replicas, as one end of an edge: clients call any replica. */
export const CAT_FEEDER_GROUP = 'cat-feeder';

/** The calls of the service graph: caller service → the gRPC service it calls, on which service. */
const SERVICE_GRAPH: readonly { from: string; to: string; grpcService: string }[] = [
  { from: 'loadgen', to: 'orders', grpcService: 'catmesh.orders.v1.OrderService' },
  { from: 'loadgen', to: CAT_FEEDER_GROUP, grpcService: 'catmesh.catfeeder.v1.CatFeederService' },
  { from: 'loadgen', to: 'inventory', grpcService: 'catmesh.inventory.v1.InventoryService' },
  { from: 'orders', to: 'inventory', grpcService: 'catmesh.inventory.v1.InventoryService' },
  { from: 'orders', to: CAT_FEEDER_GROUP, grpcService: 'catmesh.catfeeder.v1.CatFeederService' },
];

export function buildSnapshot(inputs: SnapshotInputs): MeshSnapshot {
  const faults = inputs.faultSources
    .flatMap((source) => source.faults)
    .sort((a, b) => a.instance.localeCompare(b.instance) || a.id.localeCompare(b.id));
  const instances: InstanceView[] = inputs.instances.map(({ name, service, metrics, rates }) => ({
    name,
    service,
    metrics,
    ...(rates && {
      requestsPerSecond: rates.requestsPerSecond,
      errorsPerSecond: rates.errorsPerSecond,
    }),
  }));
  const leader = leaderOf(
    inputs.replicas.flatMap(({ id, role, term }) =>
      role !== undefined && term !== undefined ? [{ id, role, term }] : [],
    ),
  );
  return {
    takenAtMs: inputs.nowMs,
    instances,
    edges: edgesOf(inputs, faults),
    raft: {
      replicas: inputs.replicas,
      ...(leader && { leaderId: leader.id }),
      timeline: inputs.timeline,
      ...(inputs.raftPolledAtMs !== undefined && { polledAtMs: inputs.raftPolledAtMs }),
    },
    faults: { faults, sources: inputs.faultSources.map((source) => source.status) },
    slis: inputs.slis,
    catState: inputs.catState,
    orders: inputs.orders,
  };
}

function edgesOf(inputs: SnapshotInputs, faults: readonly FaultView[]): EdgeView[] {
  const edges: EdgeView[] = [];
  const present = new Set(inputs.instances.map((instance) => instance.service));
  if (inputs.replicas.length > 0) present.add(CAT_FEEDER_GROUP);
  for (const caller of inputs.instances) {
    for (const call of SERVICE_GRAPH) {
      if (call.from !== caller.service || !present.has(call.to)) continue;
      const rates = caller.rates?.clientCalls.get(call.grpcService);
      const to = call.to === CAT_FEEDER_GROUP ? CAT_FEEDER_GROUP : targetName(inputs, call.to);
      edges.push({
        from: caller.name,
        to,
        ...(rates && {
          requestsPerSecond: rates.requestsPerSecond,
          errorsPerSecond: rates.errorsPerSecond,
        }),
        faultIds: faultsOn(faults, caller.name, to),
      });
    }
  }
  // Raft's own traffic: every replica talks to every other (votes, appends, heartbeats).
  for (const [index, a] of inputs.replicas.entries()) {
    for (const b of inputs.replicas.slice(index + 1)) {
      edges.push({ from: a.name, to: b.name, faultIds: faultsOn(faults, a.name, b.name) });
    }
  }
  return edges;
}

function targetName(inputs: SnapshotInputs, service: string): string {
  return inputs.instances.find((instance) => instance.service === service)?.name ?? service;
}

/** The faults held by one end of the path that select the other end (or every peer). */
function faultsOn(faults: readonly FaultView[], a: string, b: string): string[] {
  return faults
    .filter((fault) => fault.kind !== 'pause')
    .filter(
      (fault) =>
        (isEnd(fault.instance, a) && selects(fault, b)) ||
        (isEnd(fault.instance, b) && selects(fault, a)),
    )
    .map((fault) => fault.id);
}

function selects(fault: FaultView, end: string): boolean {
  return (
    fault.peers.length === 0 || fault.peers.some((peer) => isEnd(peer, end) || isEnd(end, peer))
  );
}

/** `name` (an instance, or a service selector) is the end `end` of a path, or one of its group. */
function isEnd(name: string, end: string): boolean {
  return name === end || (end === CAT_FEEDER_GROUP && name.startsWith(`${CAT_FEEDER_GROUP}-`));
}
