// The ChaosExperiment resource as a TypeScript type: the shape experiment-schema.ts validates.
// It is a Kubernetes resource on purpose, so the file a user runs with `catmesh chaos run` is the
// file a cluster takes with `kubectl apply`. Durations stay strings here (`10s`); the planner
// turns them into milliseconds once, after validation.

export const EXPERIMENT_API_VERSION = 'catmesh.dev/v1alpha1';
export const EXPERIMENT_KIND = 'ChaosExperiment';

/** `10s`, `500ms`, `2m` (see duration.ts). */
export type DurationText = string;

export type Consistency = 'linearizable' | 'lease' | 'stale';

export interface ChaosExperiment {
  readonly apiVersion: typeof EXPERIMENT_API_VERSION;
  readonly kind: typeof EXPERIMENT_KIND;
  readonly metadata: ExperimentMetadata;
  readonly spec: ExperimentSpec;
}

export interface ExperimentMetadata {
  readonly name: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ExperimentSpec {
  /** What the user should see, and why: printed with the plan and at the top of the report. */
  readonly description: string;
  /** The lesson it teaches, e.g. `Fallacy 2: latency is zero`. */
  readonly lesson?: string;
  /** Seeds the choice of targets under `count`/`percent` and the workload's operations. */
  readonly seed?: number;
  readonly workload: WorkloadSpec;
  readonly steadyState: SteadyStateSpec;
  readonly steps: readonly StepSpec[];
}

/** The traffic that judges the experiment, sent by the experiment itself. */
export interface WorkloadSpec {
  /** Customers placing orders (PlaceOrder on orders). */
  readonly orders?: OrdersWorkload;
  /** Reads of `cat.state` spread over every cat-feeder replica. */
  readonly catState?: ReadsWorkload;
  /** Stock reads on inventory (GetStock). */
  readonly stock?: StockWorkload;
  /** Reads and writes of registers on cat-feeder, checked for linearizability afterwards. */
  readonly register?: RegisterWorkload;
}

export interface OrdersWorkload {
  readonly ratePerSecond: number;
  readonly sku?: string;
  readonly quantity?: number;
  readonly deadline?: DurationText;
}

export interface ReadsWorkload {
  readonly ratePerSecond: number;
  readonly consistency?: Consistency;
  readonly deadline?: DurationText;
}

export interface StockWorkload {
  readonly ratePerSecond: number;
  readonly sku?: string;
  readonly deadline?: DurationText;
}

export interface RegisterWorkload {
  readonly ratePerSecond: number;
  /** Logical clients, spread over the replicas (each has a home replica). */
  readonly clients?: number;
  readonly consistency?: Consistency;
  readonly deadline?: DurationText;
}

export interface SteadyStateSpec {
  /** How long the steady state is measured before the first fault. */
  readonly before: DurationText;
  /** How long recovery is watched after the last fault ends. */
  readonly after: DurationText;
  /** The longest wait, after the workload stops, for its orders to end; 30s unless given. */
  readonly settle?: DurationText;
  readonly hypothesis: readonly Probe[];
}

/** The operations whose SLIs a probe can bound. */
export type OperationName = 'orders' | 'catState' | 'stock' | 'register';
export type SliName = 'successRatio' | 'p50Ms' | 'p99Ms';

/** `orders.successRatio >= 0.99`, `orders.p99Ms <= 500`. */
export interface Probe {
  readonly sli: `${OperationName}.${SliName}`;
  readonly atLeast?: number;
  readonly atMost?: number;
}

/**
 * `app`: inside catmesh's own transports; `process`: kill and pause of whole processes;
 * `networkpolicy`: a partition made of NetworkPolicies (decided when a connection is set up);
 * `netfilter`: a partition in the kernel, every packet dropped, open connections included.
 */
export const MECHANISMS = ['app', 'process', 'networkpolicy', 'netfilter'] as const;
export type Mechanism = (typeof MECHANISMS)[number];
/** The mechanisms that cut the network itself, outside catmesh's processes. */
export type NetworkMechanism = Extract<Mechanism, 'networkpolicy' | 'netfilter'>;

export type PeerDirection = 'both' | 'inbound' | 'outbound';
export type PartitionDirection = 'both' | 'one-way';
export type TransportName = 'grpc' | 'nats' | 'raft';
export type LatencyDistribution = 'uniform' | 'normal' | 'pareto';

export type FaultSpec =
  | {
      readonly kind: 'latency';
      readonly delay: DurationText;
      readonly jitter?: DurationText;
      readonly distribution?: LatencyDistribution;
    }
  | { readonly kind: 'loss'; readonly probability: number }
  | { readonly kind: 'reject'; readonly probability?: number }
  | { readonly kind: 'partition' }
  | { readonly kind: 'bandwidth'; readonly bytesPerSecond: number }
  /** app: the event loop blocked `pauseFor` (every `every`); process: SIGSTOP for the step. */
  | { readonly kind: 'pause'; readonly pauseFor?: DurationText; readonly every?: DurationText }
  /** process: SIGKILL, restarted by the runner after `restartAfter` or its own backoff. */
  | { readonly kind: 'kill'; readonly restartAfter?: DurationText };

export type FaultKind = FaultSpec['kind'];

/** Which instances: every field given must match; `count`/`percent` then pick some of them. */
export interface Selector {
  readonly service?: string;
  readonly instances?: readonly string[];
  /** cat-feeder only: resolved from the replicas' status when the step starts. */
  readonly role?: 'leader' | 'follower';
  readonly count?: number;
  readonly percent?: number;
}

export interface StepSpec {
  readonly name: string;
  readonly mechanism: Mechanism;
  readonly fault: FaultSpec;
  /** The instances that hold the fault (a partition's one side). */
  readonly target: Selector;
  /** The other end of the affected traffic (a partition's other side); every peer if omitted. */
  readonly peers?: Selector;
  /** For latency, loss, reject and bandwidth, seen from the target; both unless given. */
  readonly direction?: PeerDirection;
  /** For a partition: both ways, or only from the target to its peers. */
  readonly partition?: PartitionDirection;
  /** The transports the fault acts on; all unless given. */
  readonly transports?: readonly TransportName[];
  /** From the end of the steady-state measurement; 0s unless given. */
  readonly startAfter?: DurationText;
  readonly duration: DurationText;
}
