// The reconcile of one ChaosExperiment, level-triggered: whatever event brought the key here,
// the decision is taken from the object as the cache has it now, in a fixed order:
//
//   being deleted   → stop its run here, revert its faults, then let the finalizer go
//   no finalizer    → add it (nothing runs before a deletion could be noticed)
//   Finished/Failed → nothing
//   running here    → nothing (the run writes its own status)
//   Running/Recovering but not here → its controller is gone: revert its faults, end it Failed
//   otherwise       → start the run
import type { MeshAccess } from '@catmesh/chaos';
import type { Logger } from '@catmesh/runtime';
import type { ExperimentApi } from './experiment-api.js';
import { FINALIZER, forceCleanRequested, type ExperimentResource } from './experiment-resource.js';
import { runExperimentResource } from './experiment-run.js';
import { statusCodeOf } from './kube-apis.js';
import { recoverRun } from './recover-run.js';
import { failedStatus } from './run-status.js';

export interface ReconcilerDeps {
  readonly api: ExperimentApi;
  readonly meshFor: (resource: ExperimentResource) => MeshAccess;
  readonly logger: Logger;
}

interface LocalRun {
  readonly uid: string;
  readonly stop: AbortController;
  readonly done: Promise<void>;
}

/** A revert that did not finish: the key is worked on again after a back-off. */
export class RecoveryPendingError extends Error {
  override readonly name = 'RecoveryPendingError';
}

export class Reconciler {
  readonly #runs = new Map<string, LocalRun>();
  /** Runs that ended here, until the cache shows their final status (a stale Running is not an orphan). */
  readonly #ended = new Set<string>();
  #stopped = false;

  constructor(private readonly deps: ReconcilerDeps) {}

  /** Names of the experiments running in this process. */
  get running(): readonly string[] {
    return [...this.#runs.keys()];
  }

  async reconcile(resource: ExperimentResource | undefined): Promise<void> {
    if (resource === undefined) return;
    const { name, uid, finalizers = [] } = resource.metadata;
    if (resource.metadata.deletionTimestamp !== undefined) {
      if (finalizers.includes(FINALIZER)) await this.#finalize(resource);
      return;
    }
    if (!finalizers.includes(FINALIZER)) {
      await this.deps.api.setFinalizers(resource, [...finalizers, FINALIZER]);
      return;
    }
    const phase = resource.status?.phase;
    if (phase === 'Finished' || phase === 'Failed') {
      this.#ended.delete(uid);
      return;
    }
    if (this.#runs.has(name) || this.#ended.has(uid)) return;
    if (phase === 'Running' || phase === 'Recovering') {
      await this.#recoverOrphan(resource);
      return;
    }
    this.#start(resource);
  }

  /** Stops every run of this process (leadership lost, shutdown); each reverts its faults. */
  async stopAll(): Promise<void> {
    this.#stopped = true;
    const runs = [...this.#runs.values()];
    for (const run of runs) run.stop.abort();
    await Promise.all(runs.map((run) => run.done));
  }

  #start(resource: ExperimentResource): void {
    // A reconcile still in flight when leadership ended must not start what stopAll missed.
    if (this.#stopped) return;
    const { name, uid } = resource.metadata;
    const stop = new AbortController();
    const done = runExperimentResource(resource, {
      api: this.deps.api,
      mesh: this.deps.meshFor(resource),
      logger: this.deps.logger,
      signal: stop.signal,
    })
      .catch((error: unknown) =>
        this.deps.logger.error({ err: error, experiment: name }, 'experiment run failed'),
      )
      .finally(() => {
        this.#runs.delete(name);
        this.#ended.add(uid);
      });
    this.#runs.set(name, { uid, stop, done });
    this.deps.logger.info({ experiment: name }, 'experiment started');
  }

  async #finalize(resource: ExperimentResource): Promise<void> {
    const { name, uid, finalizers = [] } = resource.metadata;
    const run = this.#runs.get(name);
    if (run?.uid === uid) {
      run.stop.abort();
      await run.done;
    }
    const force = forceCleanRequested(resource);
    const failures = await this.#revertRun(
      resource,
      force,
      ' (annotate chaos.catmesh.dev/force-clean=true to let go anyway)',
    );
    if (failures.length > 0) {
      await this.#warn(
        resource,
        'ForceCleaned',
        `finalizer removed on request with faults left to their expiry: ${failures.join('; ')}`,
      );
    }
    this.#ended.delete(uid);
    try {
      await this.deps.api.setFinalizers(
        resource,
        finalizers.filter((finalizer) => finalizer !== FINALIZER),
      );
    } catch (error) {
      // Gone already: an earlier reconcile of the same deletion let it go.
      if (statusCodeOf(error) !== 404) throw error;
      return;
    }
    this.deps.logger.info({ experiment: name }, 'experiment deleted; its faults are reverted');
  }

  async #recoverOrphan(resource: ExperimentResource): Promise<void> {
    const { name, generation = 1 } = resource.metadata;
    await this.#revertRun(resource, false);
    const message =
      'the controller running it stopped before the run ended; every fault it applied is reverted, and no report was made';
    await this.deps.api.writeStatus(
      name,
      failedStatus(resource.status ?? {}, 'Interrupted', message, { generation, now: new Date() }),
    );
    await this.#warn(resource, 'Interrupted', message);
    this.deps.logger.warn({ experiment: name }, message);
  }

  /**
   * Reverts what the resource's run applied. A revert that fails throws RecoveryPendingError (a
   * Warning Event, `hint` after the failures, and the key is retried), unless `force` takes the
   * failures as they are: they are returned.
   */
  async #revertRun(
    resource: ExperimentResource,
    force: boolean,
    hint = '',
  ): Promise<readonly string[]> {
    const runId = resource.status?.runId;
    if (runId === undefined) return [];
    const { failures } = await recoverRun(this.deps.meshFor(resource), runId);
    if (failures.length === 0 || force) return failures;
    const message = `not every fault of run ${runId} is reverted yet: ${failures.join('; ')}; each still ends at its expiry${hint}`;
    await this.#warn(resource, 'RecoveryPending', message);
    throw new RecoveryPendingError(message);
  }

  async #warn(resource: ExperimentResource, reason: string, message: string): Promise<void> {
    await this.deps.api
      .recordEvent(resource, { type: 'Warning', reason, message })
      .catch((error: unknown) =>
        this.deps.logger.warn({ err: error, experiment: resource.metadata.name }, 'event failed'),
      );
  }
}
