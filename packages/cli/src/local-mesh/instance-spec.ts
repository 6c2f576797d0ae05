import type { ListenPorts } from './port-plan.js';

/** How the runner (and `catmesh status`) asks an instance whether it serves. */
export type HealthCheck =
  /** grpc.health.v1 Check of the whole server (""): SERVING. */
  | { readonly kind: 'grpc'; readonly address: string }
  /** An HTTP GET answering 200 (NATS' monitoring `/healthz`). */
  | { readonly kind: 'http'; readonly url: string };

/** What must be on this machine before an instance can start, and how to get it. */
export type Requirement =
  | { readonly program: string; readonly install: string }
  | { readonly file: string; readonly build: string };

/** One process of the local mesh: everything needed to start it, probe it and stop it. */
export interface InstanceSpec {
  /** Unique in the mesh: `cat-feeder-2`. Names its log file, pid file and data directory. */
  readonly name: string;
  /** What it is an instance of: `cat-feeder`. */
  readonly service: string;
  readonly command: string;
  readonly args: readonly string[];
  /** Its own variables; the runner adds the ones every instance gets (instanceEnvironment). */
  readonly env: Readonly<Record<string, string>>;
  readonly requires: Requirement;
  readonly ports: ListenPorts;
  readonly health: HealthCheck;
  /** Its Prometheus `/metrics` with the kit's gRPC metrics; NATS has none. */
  readonly metricsUrl?: string;
  /** Names of the instances that must be healthy before it starts (and stop after it). */
  readonly dependsOn: readonly string[];
}
