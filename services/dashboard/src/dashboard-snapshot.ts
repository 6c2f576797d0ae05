// What the dashboard pushes to the page once a second over /api/stream: one JSON object holding
// everything the page draws. The server builds it (snapshot-builder.ts) and the page imports the
// same types, so both sides agree on its shape. Times are Unix epoch milliseconds.

/** Whether one source answered its last poll; when it did not, why (the error it gave). */
export interface SourceStatus {
  /** What was asked: `inventory /metrics`, `cat-feeder-2 Status`. */
  readonly source: string;
  readonly up: boolean;
  /** The error of the last poll, when down: `connect ECONNREFUSED 127.0.0.1:9201`. */
  readonly reason?: string;
  /** When it was last asked; undefined before the first poll has ended. */
  readonly checkedAtMs?: number;
}

/** One process of the mesh, as its own `/metrics` shows it. */
export interface InstanceView {
  readonly name: string;
  /** `cat-feeder`, `orders`, `inventory`, `loadgen`. */
  readonly service: string;
  readonly metrics: SourceStatus;
  /** gRPC calls it answered per second (health checks left out), over the last seconds. */
  readonly requestsPerSecond?: number;
  /** Of those, the ones that did not end OK. */
  readonly errorsPerSecond?: number;
}

/** A call path of the service graph: `from` calls `to` (for the Raft peers: both ways). */
export interface EdgeView {
  readonly from: string;
  readonly to: string;
  /** Calls per second `from` made to `to`'s service, from `from`'s client metrics. */
  readonly requestsPerSecond?: number;
  readonly errorsPerSecond?: number;
  /** Ids of the faults in force that act on this path. */
  readonly faultIds: readonly string[];
}

/** One cat-feeder replica, from its Status RPC. */
export interface ReplicaView {
  readonly id: number;
  readonly name: string;
  readonly status: SourceStatus;
  /** `leader`, `follower`, `candidate`, `pre-candidate`, `learner`. */
  readonly role?: string;
  readonly term?: number;
  /** 0 while it knows of no leader. */
  readonly leaderId?: number;
  readonly commitIndex?: number;
  readonly appliedIndex?: number;
}

/**
 * A change of leadership the dashboard saw: `leader` when a replica is seen leading a term
 * (after a gap, or replacing another), `no-leader` when no replica answers as leader any more.
 */
export interface ElectionEvent {
  readonly kind: 'leader' | 'no-leader';
  readonly atMs: number;
  /** `leader`: the new leader's term; `no-leader`: the term of the leader that went away. */
  readonly term: number;
  /** `leader`: who leads now. */
  readonly leaderId?: number;
  /** The leader before (for `no-leader`: the one that went away). */
  readonly previousLeaderId?: number;
  /** `leader` after a gap: how long the group had no leader the dashboard could see. */
  readonly gapMs?: number;
}

export interface RaftView {
  readonly replicas: readonly ReplicaView[];
  /** The leader of the highest term any replica reports; undefined while there is none. */
  readonly leaderId?: number;
  /** Oldest first, the last few dozen. */
  readonly timeline: readonly ElectionEvent[];
  /** When the replicas were last asked. */
  readonly polledAtMs?: number;
}

/** One fault in force in one process, from its fault admin API. */
export interface FaultView {
  /** The process that holds it (and whose traffic it acts on). */
  readonly instance: string;
  readonly id: string;
  /** `partition`, `latency`, `loss`, `reject`, `bandwidth`, `pause`. */
  readonly kind: string;
  /** `200ms ±20ms`, `30% of calls`: the fault's own parameters, in words. */
  readonly detail: string;
  /** The peers whose traffic it acts on (instance or service names); empty: every peer. */
  readonly peers: readonly string[];
  readonly experiment: string;
  readonly expiresAtMs: number;
}

export interface FaultsView {
  readonly faults: readonly FaultView[];
  /** Every fault admin API asked, up or down. */
  readonly sources: readonly SourceStatus[];
}

/** The service level indicators loadgen measures, over the last `windowSeconds`. */
export interface SlisView {
  readonly source: SourceStatus;
  readonly windowSeconds: number;
  /** PlaceOrder calls in the window. */
  readonly orders: number;
  /** Answered orders (placed or rejected for stock) over all orders; undefined with no orders. */
  readonly orderSuccessRatio?: number;
  readonly placeOrderP50Ms?: number;
  readonly placeOrderP99Ms?: number;
}

/** `cat.state` as a linearizable read returns it. */
export interface CatStateView {
  readonly source: SourceStatus;
  /** `hungry`, `full`; undefined when the key does not exist or the read failed. */
  readonly value?: string;
  /** The replica that answered. */
  readonly readFrom?: string;
}

/** One step of the running experiment, from its progress.json. */
export interface ExperimentStepView {
  readonly name: string;
  readonly description: string;
  /** `pending`, `applied`, `reverted`, `failed`. */
  readonly state: string;
  /** Set once the fault window has opened. */
  readonly startsAtMs?: number;
  readonly durationMs: number;
  readonly appliedAtMs?: number;
  readonly revertedAtMs?: number;
  /** The instances that hold the fault. */
  readonly targets: readonly string[];
  readonly error?: string;
}

/** An experiment `catmesh chaos run` is running now. */
export interface RunningExperimentView {
  /** Its run directory's name: `leader-failover-2026-12-07T23-30-00-000Z`. */
  readonly run: string;
  readonly experiment: string;
  readonly startedAtMs: number;
  /** `starting`, `before` (the steady state), `during` (the faults), `after`, `settle`, `check`. */
  readonly phase: string;
  readonly phaseSinceMs: number;
  /** Set once the fault window has opened; with it, when the recovery window ends. */
  readonly faultWindowAtMs?: number;
  readonly endsAtMs?: number;
  readonly steps: readonly ExperimentStepView[];
}

/**
 * An experiment that ended: with its report, abandoned (its runner died first), or with a
 * report.json this dashboard cannot read (another version's, or damaged).
 */
export type PastExperimentView =
  | {
      readonly kind: 'report';
      readonly run: string;
      readonly experiment: string;
      readonly startedAtMs: number;
      readonly endedAtMs: number;
      readonly interrupted: boolean;
      /** `held`, `recovered`, `violated`, `inconclusive`. */
      readonly hypothesis: string;
      /** `ok`, `illegal`, `unknown`; absent when the run checked no register. */
      readonly linearizability?: string;
      /** Whether every invariant of the shop held; absent when the run placed no orders. */
      readonly invariantsHold?: boolean;
      readonly leaderChanges: number;
      /** The report's first findings. */
      readonly findings: readonly string[];
      /** Where the dashboard serves its HTML report. */
      readonly reportPath: string;
    }
  | {
      readonly kind: 'abandoned';
      readonly run: string;
      readonly experiment: string;
      readonly startedAtMs: number;
      /** The phase it was in when its runner died. */
      readonly phase: string;
      readonly pid: number;
    }
  | {
      readonly kind: 'unreadable';
      readonly run: string;
      /** When its report.json was written. */
      readonly startedAtMs: number;
      /** What is wrong with it. */
      readonly reason: string;
    };

export interface ExperimentsView {
  /** The directory of runs `catmesh chaos run` writes. */
  readonly source: SourceStatus;
  readonly running: readonly RunningExperimentView[];
  /** Newest first. */
  readonly past: readonly PastExperimentView[];
}

/**
 * The allow matrix of the chart's NetworkPolicies (packages/netpol, as `catmesh netpol matrix`
 * computes it): which workload may open a connection to which, on which ports.
 */
export interface NetworkRulesView {
  readonly source: SourceStatus;
  /** Rows: each workload, then `external` (from outside the cluster). */
  readonly from: readonly string[];
  /** Columns: each workload connected to. */
  readonly to: readonly string[];
  /** `allowed[row][column]`: the destination ports allowed (their names); empty: denied. */
  readonly allowed: readonly (readonly (readonly string[])[])[];
  /** How many NetworkPolicies the manifests hold. */
  readonly policies: number;
}

export interface DashboardSnapshot {
  readonly takenAtMs: number;
  readonly instances: readonly InstanceView[];
  readonly edges: readonly EdgeView[];
  readonly raft: RaftView;
  readonly faults: FaultsView;
  readonly slis: SlisView;
  readonly catState: CatStateView;
  /** The newest orders whose traces reached the dashboard's OTLP receiver. */
  readonly orders: readonly OrderTraceView[];
  readonly experiments: ExperimentsView;
  readonly networkRules: NetworkRulesView;
  /**
   * The Jaeger UI the services' traces also go to, as the user's browser reaches it, with no
   * trailing slash (`http://localhost:16686`, from CATMESH_DASHBOARD_JAEGER_URL): an order's
   * trace is `${jaegerUrl}/trace/${traceId}` there. Undefined when none is configured: no links.
   */
  readonly jaegerUrl?: string;
}

/** What the mesh's own sources give (mesh-sources.ts); the rest comes from files (file-sources.ts). */
export type MeshSnapshot = Omit<DashboardSnapshot, 'experiments' | 'networkRules'>;

/** An order's trace the dashboard received: its PlaceOrder span's start and duration. */
export interface OrderTraceView {
  readonly traceId: string;
  readonly startedAtMs: number;
  readonly durationMs: number;
  /** Spans received so far (more arrive as each process exports its batch). */
  readonly spans: number;
}

/** One span of a trace's tree, as `GET /api/traces/<trace id>` returns it. */
export interface TraceSpanNode {
  readonly name: string;
  readonly service: string;
  readonly instance: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly children: readonly TraceSpanNode[];
}
