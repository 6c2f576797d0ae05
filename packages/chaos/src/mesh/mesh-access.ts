// What an experiment needs of the mesh it runs against, whatever runs the mesh: `catmesh up`
// (packages/cli gives an implementation over its manifest and its runner) or, later, a cluster.
// Injected, so the planner and the run loop open no files and know no runner.

/** One process of the mesh. */
export interface MeshInstance {
  /** Unique in the mesh, the identity its processes send: `cat-feeder-2`. */
  readonly name: string;
  /** `cat-feeder`, `orders`, `inventory`, `loadgen`, `nats`. */
  readonly service: string;
  /** Its gRPC API (NATS: its client port). */
  readonly address: string;
  /** Its FaultAdminService, when it has one (NATS has none). */
  readonly adminAddress?: string;
}

import type { NetworkMechanism } from '../experiment/experiment-types.js';

export type ProcessFaultKind = 'kill' | 'pause';

export interface ProcessFaultRequest {
  readonly id: string;
  readonly kind: ProcessFaultKind;
  readonly instance: string;
  readonly durationMs: number;
  readonly experiment: string;
  /** kill: when the killed instance starts again (the runner's own backoff otherwise). */
  readonly restartAfterMs?: number;
}

export interface ProcessFaultRecord {
  readonly id: string;
  readonly kind: ProcessFaultKind;
  readonly instance: string;
  readonly experiment?: string;
  /** Epoch milliseconds. */
  readonly appliedAt: number;
  readonly expiresAt: number;
}

/**
 * Kill and pause of whole processes, applied and reverted by whoever runs them (the local
 * runner, the kubelet): they hold the expiry, so a fault ends on time even if the experiment dies.
 */
export interface ProcessFaults {
  /**
   * The kinds this mesh can do to a process; preflight refuses a step of any other kind. Not
   * every runner can do both: the kubelet restarts a deleted pod, but nothing in the Kubernetes
   * API stops a container's processes.
   */
  readonly kinds: readonly ProcessFaultKind[];
  apply(request: ProcessFaultRequest): Promise<ProcessFaultRecord>;
  list(): Promise<readonly ProcessFaultRecord[]>;
  revert(id: string): Promise<void>;
  /** Reverts the faults of one experiment run, or all; returns their ids. */
  revertAll(experiment?: string): Promise<readonly string[]>;
}

/** A partition cut outside catmesh's processes: by NetworkPolicies or in the kernel. */
export interface NetworkPartitionRequest {
  readonly id: string;
  readonly mechanism: NetworkMechanism;
  /** Instance names: one side of the cut. */
  readonly targets: readonly string[];
  /** Instance names: the other side. */
  readonly peers: readonly string[];
  /** `one-way`: only what the targets send to (or open towards) their peers is cut. */
  readonly direction: 'both' | 'one-way';
  readonly durationMs: number;
  readonly experiment: string;
}

/**
 * Network partitions made by whoever runs the network (a cluster's API, the chart rehearsal),
 * each ended by them when its duration is over, even if the experiment is gone.
 */
export interface NetworkFaults {
  readonly mechanisms: readonly NetworkMechanism[];
  apply(request: NetworkPartitionRequest): Promise<void>;
  revert(id: string): Promise<void>;
  /** Reverts the partitions of one experiment run, or all; returns their ids. */
  revertAll(experiment?: string): Promise<readonly string[]>;
}

export interface MeshAccess {
  /** Where the mesh is, for messages: `the catmesh up mesh in .catmesh`. */
  readonly description: string;
  instances(): Promise<readonly MeshInstance[]>;
  /** Absent where nothing can kill or pause processes. */
  readonly processFaults?: ProcessFaults;
  /** Absent where nothing cuts the network outside the processes (`catmesh up`). */
  readonly networkFaults?: NetworkFaults;
}
