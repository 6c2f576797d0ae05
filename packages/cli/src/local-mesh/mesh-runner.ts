import { setTimeout as sleep } from 'node:timers/promises';
import { dependentsOf, inDependencyOrder } from './dependency-order.js';
import { HealthProber } from './health-probe.js';
import { instanceEnvironment, STOP_TIMEOUT_MS, type TraceExport } from './instance-environment.js';
import { describeExit, type InstanceProcess } from './instance-process.js';
import type { InstanceSpec } from './instance-spec.js';
import { address } from './mesh-instances.js';
import { leaderOf, readReplicaRoles } from './replica-roles.js';
import type { InstanceRecord } from './runner-control-api.js';
import type { StartProgress } from './start-progress.js';
import type { StateDir } from './state-dir.js';
import type { StopOutcome } from './stop-process-group.js';
import { SupervisedInstance, type RestartEvents } from './supervised-instance.js';

/** How long an instance may take to become healthy, and the Raft group to elect a leader. */
const START_TIMEOUT_MS = 60_000;
const PROBE_EVERY_MS = 100;
const PROBE_TIMEOUT_MS = 1_000;
/** The progress step of the cat-feeder election, after the instances' own steps. */
export const LEADER_STEP = 'raft leader';

/** Why the mesh did not start: `instance` names the one whose log tells the rest. */
export class StartFailure extends Error {
  override readonly name = 'StartFailure';

  constructor(
    message: string,
    readonly instance?: string,
  ) {
    super(message);
  }
}

/** A wait of the start was cut short: by a stop request, or by a failure elsewhere. */
class StartInterrupted extends Error {
  override readonly name = 'StartInterrupted';
}

export type StartResult =
  | { readonly kind: 'ready' }
  | { readonly kind: 'failed'; readonly failure: StartFailure }
  | { readonly kind: 'interrupted' };

export interface MeshRunnerOptions {
  readonly state: StateDir;
  readonly instances: readonly InstanceSpec[];
  readonly userEnv: Readonly<Record<string, string | undefined>>;
  readonly traces: TraceExport;
  /** Aborted when a stop is requested. */
  readonly stopSignal: AbortSignal;
  /** Told of every restart once the mesh is ready. */
  readonly restartEvents: RestartEvents;
}

/**
 * Starts the instances of a mesh as child processes, each once what it depends on is healthy,
 * restarts any that exits once the mesh is ready (supervised-instance.ts), and stops them the
 * other way round. It prints nothing itself: progress and outcomes go to the callbacks the
 * command gives it.
 */
export class MeshRunner {
  readonly #options: MeshRunnerOptions;
  readonly #running = new Map<string, SupervisedInstance>();
  readonly #prober = new HealthProber();
  #stopping = false;

  constructor(options: MeshRunnerOptions) {
    this.#options = options;
  }

  /** The instances started so far, by name. */
  get instances(): ReadonlyMap<string, SupervisedInstance> {
    return this.#running;
  }

  /** Every instance started so far, in start order, as the control API lists them. */
  records(): InstanceRecord[] {
    return this.#options.instances.flatMap((spec) => this.#running.get(spec.name)?.record() ?? []);
  }

  async start(progress: StartProgress): Promise<StartResult> {
    const { instances, stopSignal } = this.#options;
    // Aborted by a stop request or by the first failure: the other waits end at once.
    const abort = new AbortController();
    const onStop = (): void => abort.abort();
    stopSignal.addEventListener('abort', onStop);
    // An instance that dies before the mesh is ready, even one that was healthy, ends the start.
    let ready = false;
    let died: StartFailure | undefined;
    const watch = (child: InstanceProcess): void => {
      void child.exited.then((exit) => {
        if (ready || this.#stopping) return;
        progress.fail(child.spec.name, describeExit(exit));
        died ??= new StartFailure(`${child.spec.name} ${describeExit(exit)}`, child.spec.name);
        abort.abort();
      });
    };
    try {
      await inDependencyOrder(
        instances,
        (spec) => spec.dependsOn,
        async (spec) => {
          try {
            await this.#startOne(spec, progress, abort.signal, watch);
          } catch (error) {
            abort.abort();
            throw error;
          }
        },
      );
      await this.#awaitLeader(progress, abort.signal);
      ready = true;
      for (const instance of this.#running.values()) {
        instance.keepRunning(this.#options.restartEvents, async () => {
          if (this.#stopping) return false;
          const health = await this.#prober.probe(instance.spec.health, PROBE_TIMEOUT_MS);
          return health === 'SERVING';
        });
      }
      return { kind: 'ready' };
    } catch (error) {
      if (stopSignal.aborted) return { kind: 'interrupted' };
      if (died) return { kind: 'failed', failure: died };
      if (error instanceof StartFailure) return { kind: 'failed', failure: error };
      throw error;
    } finally {
      stopSignal.removeEventListener('abort', onStop);
    }
  }

  /**
   * Stops every instance started, dependents first (loadgen, orders, ..., NATS last), each
   * with SIGTERM and, after STOP_TIMEOUT_MS, SIGKILL to its process group. Pending restarts
   * are cancelled first, all at once, so that no instance comes back while its peers stop.
   */
  async stop(
    onStopped: (spec: InstanceSpec, outcome: StopOutcome, ms: number) => void,
  ): Promise<void> {
    this.#stopping = true;
    this.#prober.close();
    for (const instance of this.#running.values()) instance.forgoRestarts();
    const started = this.#options.instances.filter((spec) => this.#running.has(spec.name));
    await inDependencyOrder(
      started,
      (spec) => dependentsOf(started, spec),
      async (spec) => {
        const began = Date.now();
        const outcome = await this.#running.get(spec.name)!.stop(STOP_TIMEOUT_MS);
        onStopped(spec, outcome, Date.now() - began);
      },
    );
  }

  /** SIGKILL to every instance's process group at once: for a user who will not wait. */
  kill(): void {
    this.#stopping = true;
    for (const instance of this.#running.values()) instance.forceKill();
  }

  async #startOne(
    spec: InstanceSpec,
    progress: StartProgress,
    signal: AbortSignal,
    watch: (child: InstanceProcess) => void,
  ): Promise<void> {
    if (signal.aborted) throw new StartInterrupted();
    progress.begin(spec.name, 'starting');
    const began = Date.now();
    const { state, userEnv, traces } = this.#options;
    const env = instanceEnvironment(spec, userEnv, state.root, traces);
    const instance = await SupervisedInstance.start(spec, env, state);
    this.#running.set(spec.name, instance);
    const child = instance.process;
    watch(child);
    for (;;) {
      // Its death is reported by `watch`.
      if (signal.aborted || child.exit) throw new StartInterrupted();
      if ((await this.#prober.probe(spec.health, PROBE_TIMEOUT_MS)) === 'SERVING') break;
      if (Date.now() - began > START_TIMEOUT_MS) {
        progress.fail(spec.name, `not healthy after ${START_TIMEOUT_MS / 1000} s`);
        throw new StartFailure(
          `${spec.name} was not healthy ${START_TIMEOUT_MS / 1000} s after it started`,
          spec.name,
        );
      }
      const pause = sleep(PROBE_EVERY_MS, undefined, { signal }).catch(() => undefined);
      await Promise.race([child.exited, pause]);
    }
    const seconds = ((Date.now() - began) / 1000).toFixed(1);
    progress.succeed(spec.name, `healthy in ${seconds}s (pid ${child.pid})`);
  }

  /** Waits until a cat-feeder replica leads, so that `catmesh kv` works the moment we say ready. */
  async #awaitLeader(progress: StartProgress, signal: AbortSignal): Promise<void> {
    const replicas = this.#options.instances.filter((spec) => spec.service === 'cat-feeder');
    if (replicas.length === 0) return;
    progress.begin(LEADER_STEP, 'waiting for an election');
    const began = Date.now();
    for (;;) {
      if (signal.aborted) throw new StartInterrupted();
      const leader = leaderOf(
        await readReplicaRoles(
          replicas.map((spec) => address(spec.ports)),
          PROBE_TIMEOUT_MS,
        ),
      );
      if (leader) {
        progress.succeed(LEADER_STEP, `cat-feeder-${leader.id} leads (term ${leader.term})`);
        return;
      }
      if (Date.now() - began > START_TIMEOUT_MS) {
        progress.fail(LEADER_STEP, `no leader after ${START_TIMEOUT_MS / 1000} s`);
        throw new StartFailure(
          `the cat-feeder replicas elected no leader in ${START_TIMEOUT_MS / 1000} s`,
        );
      }
      await sleep(PROBE_EVERY_MS * 2, undefined, { signal }).catch(() => undefined);
    }
  }
}
