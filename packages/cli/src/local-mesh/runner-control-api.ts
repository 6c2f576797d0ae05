import type { ListenPorts } from './port-plan.js';

// The runner's control API (runner-control-server.ts serves it, runner-control-client.ts calls
// it): the shapes on the wire, in one place. Times are epoch milliseconds.

export const PROCESS_FAULT_KINDS = ['kill', 'pause'] as const;
export type ProcessFaultKind = (typeof PROCESS_FAULT_KINDS)[number];

/** What a caller asks for: `POST /v1/process-faults`. */
export interface ProcessFaultRequest {
  /** Chosen by the caller, unique among the faults in force. */
  readonly id: string;
  readonly kind: ProcessFaultKind;
  readonly instance: string;
  /** How long the fault stays in force (a pause: how long the instance stays stopped). */
  readonly durationMs: number;
  /** The experiment the fault belongs to, so that all of its faults can be reverted at once. */
  readonly experiment?: string;
  /** kill only: restart after this long instead of after the instance's restart backoff. */
  readonly restartAfterMs?: number;
}

/** A fault in force, as the runner lists it. */
export interface ProcessFaultRecord {
  readonly id: string;
  readonly kind: ProcessFaultKind;
  readonly instance: string;
  readonly experiment: string | null;
  readonly appliedAt: number;
  /** When the runner reverts it on its own: appliedAt + durationMs. */
  readonly expiresAt: number;
  readonly restartAfterMs: number | null;
}

/**
 * running: its process runs; restarting: it exited and starts again at `restartAt`;
 * paused: stopped (SIGSTOP) by a pause fault until `pausedUntil`; stopped: the mesh is stopping.
 */
export type InstanceState = 'running' | 'restarting' | 'paused' | 'stopped';

/** How an instance's last process ended. */
export interface InstanceExit {
  readonly code: number | null;
  readonly signal: string | null;
  readonly at: number;
}

/** An instance as `GET /v1/instances` lists it. */
export interface InstanceRecord {
  readonly name: string;
  readonly service: string;
  /** Null while it has no process (restarting). */
  readonly pid: number | null;
  readonly state: InstanceState;
  readonly restartAt: number | null;
  readonly pausedUntil: number | null;
  /** How often the runner has started it again since the mesh was ready. */
  readonly restarts: number;
  readonly lastExit: InstanceExit | null;
  readonly ports: ListenPorts;
}

export interface InstancesResponse {
  readonly instances: readonly InstanceRecord[];
}

export interface ProcessFaultsResponse {
  readonly faults: readonly ProcessFaultRecord[];
}

/** Every error the API answers: a 4xx status with this body. */
export interface ErrorResponse {
  readonly error: string;
  /** The request field (or query parameter, or path part) at fault, when one is. */
  readonly field?: string;
}

/**
 * A request the runner refused: `status` is the HTTP status (400 bad input, 401 no token,
 * 404 no such instance or fault, 409 conflict), `field` what was wrong. The server throws it to
 * answer; the client throws it when the runner answered so.
 */
export class RunnerControlError extends Error {
  override readonly name = 'RunnerControlError';

  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}
