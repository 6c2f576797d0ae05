import { cleanupAtExit } from '@catmesh/faults';
import {
  RunnerControlError,
  type ProcessFaultRecord,
  type ProcessFaultRequest,
} from './runner-control-api.js';
import type { SupervisedInstance } from './supervised-instance.js';

export type FaultEndReason = 'expired' | 'reverted' | 'mesh stopping';

export interface ProcessFaultEvents {
  applied(fault: ProcessFaultRecord): void;
  ended(fault: ProcessFaultRecord, reason: FaultEndReason): void;
}

interface InForce {
  readonly record: ProcessFaultRecord;
  readonly timer: NodeJS.Timeout;
  /** Undoes the fault: SIGCONT for a pause, the pending restart now for a kill. Synchronous. */
  readonly end: () => void;
}

/**
 * The kill and pause faults the runner applies for whoever asks (a `catmesh chaos run`), and
 * reverts itself: at expiry, on request, when the mesh stops and, for a pause, synchronously
 * when the runner's process ends in any way short of SIGKILL (and after SIGKILL its watchdog's
 * stop sends SIGCONT): whoever asked may be gone by then, and no instance is left stopped.
 */
export class ProcessFaults {
  readonly #inForce = new Map<string, InForce>();
  readonly #instances: () => ReadonlyMap<string, SupervisedInstance>;
  readonly #events: ProcessFaultEvents;
  #unregisterExit: (() => void) | undefined;
  #closed = false;

  constructor(
    instances: () => ReadonlyMap<string, SupervisedInstance>,
    events: ProcessFaultEvents,
  ) {
    this.#instances = instances;
    this.#events = events;
  }

  /** Applies it now, or throws a RunnerControlError (404 no such instance, 409 conflict). */
  apply(request: ProcessFaultRequest): ProcessFaultRecord {
    if (this.#closed) throw new RunnerControlError(409, 'the runner is stopping the mesh');
    if (this.#inForce.has(request.id)) {
      throw new RunnerControlError(409, `id: a fault ${request.id} is already in force`, 'id');
    }
    const instances = this.#instances();
    const instance = instances.get(request.instance);
    if (!instance) {
      throw new RunnerControlError(
        404,
        `instance: no instance ${request.instance} in this mesh (it has ${[...instances.keys()].join(', ')})`,
        'instance',
      );
    }
    const appliedAt = Date.now();
    const expiresAt = appliedAt + request.durationMs;
    const end = request.kind === 'kill' ? kill(instance, request) : pause(instance, expiresAt);
    const record: ProcessFaultRecord = {
      id: request.id,
      kind: request.kind,
      instance: request.instance,
      experiment: request.experiment ?? null,
      appliedAt,
      expiresAt,
      restartAfterMs: request.restartAfterMs ?? null,
    };
    const timer = setTimeout(() => this.#end(request.id, 'expired'), request.durationMs);
    this.#inForce.set(request.id, { record, timer, end });
    this.#unregisterExit ??= cleanupAtExit(() => {
      for (const fault of this.#inForce.values()) if (fault.record.kind === 'pause') fault.end();
    });
    this.#events.applied(record);
    return record;
  }

  /** The faults in force, oldest first. */
  list(): ProcessFaultRecord[] {
    return [...this.#inForce.values()].map((fault) => fault.record);
  }

  /** Reverts one now, or throws a 404 RunnerControlError when no such fault is in force. */
  revert(id: string): ProcessFaultRecord {
    const fault = this.#inForce.get(id);
    if (!fault) throw new RunnerControlError(404, `id: no fault ${id} is in force`, 'id');
    this.#end(id, 'reverted');
    return fault.record;
  }

  /** Reverts those of `experiment`, or every one; returns what it reverted. */
  revertAll(experiment?: string): ProcessFaultRecord[] {
    const reverted = this.list().filter(
      (fault) => experiment === undefined || fault.experiment === experiment,
    );
    for (const fault of reverted) this.#end(fault.id, 'reverted');
    return reverted;
  }

  /** Reverts every fault and refuses new ones: the mesh is stopping. */
  close(): void {
    this.#closed = true;
    for (const fault of this.list()) this.#end(fault.id, 'mesh stopping');
  }

  #end(id: string, reason: FaultEndReason): void {
    const fault = this.#inForce.get(id);
    if (!fault) return;
    this.#inForce.delete(id);
    clearTimeout(fault.timer);
    // A stopping mesh restarts nothing: only a pause is undone then.
    if (reason !== 'mesh stopping' || fault.record.kind === 'pause') fault.end();
    if (this.#inForce.size === 0) {
      this.#unregisterExit?.();
      this.#unregisterExit = undefined;
    }
    this.#events.ended(fault.record, reason);
  }
}

function kill(instance: SupervisedInstance, request: ProcessFaultRequest): () => void {
  requireRunning(instance);
  const incarnation = instance.incarnation;
  if (!instance.kill(request.restartAfterMs)) {
    throw new RunnerControlError(409, `instance: ${instance.spec.name} is not running`, 'instance');
  }
  // The fault's end is the restart's latest time, should restartAfterMs not have come yet.
  return () => instance.restartNow(incarnation);
}

function pause(instance: SupervisedInstance, untilMs: number): () => void {
  if (instance.state === 'paused') {
    const until = new Date(instance.pausedUntil ?? 0).toISOString();
    throw new RunnerControlError(
      409,
      `instance: ${instance.spec.name} is already paused (until ${until})`,
      'instance',
    );
  }
  requireRunning(instance);
  const incarnation = instance.pause(untilMs);
  if (incarnation === undefined) {
    throw new RunnerControlError(409, `instance: ${instance.spec.name} is not running`, 'instance');
  }
  return () => instance.resume(incarnation);
}

function requireRunning(instance: SupervisedInstance): void {
  const { state, spec } = instance;
  if (state === 'running') return;
  const why =
    state === 'restarting'
      ? `it is restarting (in ${Math.max(0, (instance.restartAt ?? Date.now()) - Date.now())} ms)`
      : `it is ${state}`;
  throw new RunnerControlError(409, `instance: ${spec.name} is not running: ${why}`, 'instance');
}
