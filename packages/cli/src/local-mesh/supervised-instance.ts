import { setTimeout as sleep } from 'node:timers/promises';
import { InstanceProcess, type ProcessExit } from './instance-process.js';
import type { InstanceSpec } from './instance-spec.js';
import { RestartBackoff, STABLE_AFTER_MS } from './restart-backoff.js';
import type { InstanceExit, InstanceRecord, InstanceState } from './runner-control-api.js';
import type { StateDir } from './state-dir.js';
import { killProcessGroup, signalProcessGroup, type StopOutcome } from './stop-process-group.js';

const HEALTH_POLL_MS = 200;

/** What the runner says about restarts (its stdout, the instance's log). */
export interface RestartEvents {
  /** Its process ended without the runner stopping it; restart number `restart` is in `delayMs`. */
  exited(spec: InstanceSpec, exit: ProcessExit, delayMs: number, restart: number): void;
  restarted(spec: InstanceSpec, pid: number, restarts: number): void;
  /** Its restarted process answers its health check. */
  healthy(spec: InstanceSpec, restarts: number): void;
  /** The restart could not even spawn the process; it is tried again in `delayMs`. */
  restartFailed(spec: InstanceSpec, error: unknown, delayMs: number): void;
}

/**
 * One instance of the mesh across its processes: the first one, which the runner starts, and,
 * once the mesh is ready (`keepRunning`), every one started again after its predecessor exited
 * (a crash, kill -9, anything but the runner's own stop), after a backoff: kubelet's
 * `restartPolicy: Always`. It also carries the pause faults' SIGSTOP and SIGCONT, so that it
 * knows its own state. Each process is an incarnation; a fault remembers the one it hit, so
 * reverting it never touches a process started since.
 */
export class SupervisedInstance {
  readonly #backoff = new RestartBackoff();
  #process: InstanceProcess;
  #incarnation = 1;
  #restarts = 0;
  #lastExit: InstanceExit | undefined;
  #events: RestartEvents | undefined;
  #isHealthy: (() => Promise<boolean>) | undefined;
  /** The process whose exit has been handled (a restart scheduled): each one is handled once. */
  #handled: InstanceProcess | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #restartAt: number | undefined;
  #restarting: Promise<void> | undefined;
  #stableTimer: NodeJS.Timeout | undefined;
  /** Set by `kill` for the restart that follows it, instead of the backoff. */
  #nextDelayMs: number | undefined;
  #pausedUntil: number | undefined;
  #stopping = false;

  private constructor(
    readonly spec: InstanceSpec,
    private readonly env: Readonly<Record<string, string>>,
    private readonly stateDir: StateDir,
    first: InstanceProcess,
  ) {
    this.#process = first;
    this.#watch(first);
  }

  static async start(
    spec: InstanceSpec,
    env: Readonly<Record<string, string>>,
    state: StateDir,
  ): Promise<SupervisedInstance> {
    return new SupervisedInstance(spec, env, state, await InstanceProcess.start(spec, env, state));
  }

  /** Its current (or last) process. */
  get process(): InstanceProcess {
    return this.#process;
  }

  /** 1 for the first process, one more for each restart. */
  get incarnation(): number {
    return this.#incarnation;
  }

  get state(): InstanceState {
    if (this.#stopping) return 'stopped';
    if (this.#restartTimer !== undefined || this.#restarting !== undefined) return 'restarting';
    if (this.#process.exit) return 'stopped';
    return this.#pausedUntil === undefined ? 'running' : 'paused';
  }

  get pausedUntil(): number | undefined {
    return this.#pausedUntil;
  }

  get restartAt(): number | undefined {
    return this.#restartAt;
  }

  record(): InstanceRecord {
    const state = this.state;
    const live = state === 'running' || state === 'paused';
    return {
      name: this.spec.name,
      service: this.spec.service,
      pid: live ? this.#process.pid : null,
      state,
      restartAt: state === 'restarting' ? (this.#restartAt ?? null) : null,
      pausedUntil: state === 'paused' ? (this.#pausedUntil ?? null) : null,
      restarts: this.#restarts,
      lastExit: this.#lastExit ?? null,
      ports: this.spec.ports,
    };
  }

  /**
   * From now on every exit is followed by a restart. Before this (while the mesh starts) an
   * exit is the start's failure, which the runner reports instead.
   */
  keepRunning(events: RestartEvents, isHealthy: () => Promise<boolean>): void {
    this.#events = events;
    this.#isHealthy = isHealthy;
    // It may have exited in the moment between the start's last check and now.
    const { exit } = this.#process;
    if (exit) this.#onExit(this.#process, exit);
    else this.#armStableTimer();
  }

  /**
   * SIGKILL to its process group now; the restart follows after `restartAfterMs` when given,
   * else after the backoff. False when the group was already gone.
   */
  kill(restartAfterMs: number | undefined): boolean {
    this.#nextDelayMs = restartAfterMs;
    return this.#process.pid > 0 && signalProcessGroup(this.#process.pid, 'SIGKILL');
  }

  /**
   * The restart a kill of `incarnation` is waiting for happens now (the kill fault ended
   * before its `restartAfterMs`); nothing if it has happened already.
   */
  restartNow(incarnation: number): void {
    if (incarnation !== this.#incarnation || this.#restartTimer === undefined) return;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    this.#restart();
  }

  /** SIGSTOP to its process group, until `resume` of the incarnation this returns. */
  pause(untilMs: number): number | undefined {
    if (this.#process.pid <= 0 || !signalProcessGroup(this.#process.pid, 'SIGSTOP')) {
      return undefined;
    }
    this.#pausedUntil = untilMs;
    return this.#incarnation;
  }

  /** SIGCONT to its process group if `incarnation` is still the one paused. Synchronous. */
  resume(incarnation: number): void {
    if (incarnation !== this.#incarnation || this.#pausedUntil === undefined) return;
    this.#pausedUntil = undefined;
    signalProcessGroup(this.#process.pid, 'SIGCONT');
  }

  /** No restart from now on; one under way still completes (and `stop` then stops it). */
  forgoRestarts(): void {
    this.#stopping = true;
    clearTimeout(this.#restartTimer);
    clearTimeout(this.#stableTimer);
    this.#restartTimer = undefined;
  }

  /** Cancels a pending restart (waiting for one under way), then stops the process. */
  async stop(timeoutMs: number): Promise<StopOutcome> {
    this.forgoRestarts();
    await this.#restarting;
    this.#pausedUntil = undefined;
    return this.#process.stop(timeoutMs);
  }

  /** SIGKILL now, and no more restarts: for a user who will not wait. */
  forceKill(): void {
    this.forgoRestarts();
    if (!this.#process.exit && this.#process.pid > 0) killProcessGroup(this.#process.pid);
  }

  #watch(process: InstanceProcess): void {
    void process.exited.then((exit) => this.#onExit(process, exit));
  }

  #onExit(process: InstanceProcess, exit: ProcessExit): void {
    if (process !== this.#process || this.#handled === process) return;
    this.#lastExit = { code: exit.code, signal: exit.signal, at: Date.now() };
    this.#pausedUntil = undefined;
    clearTimeout(this.#stableTimer);
    const events = this.#events;
    if (this.#stopping || !events) return;
    this.#handled = process;
    const delayMs = this.#nextDelayMs ?? this.#backoff.next();
    this.#nextDelayMs = undefined;
    this.#scheduleRestart(delayMs);
    events.exited(this.spec, exit, delayMs, this.#restarts + 1);
  }

  #scheduleRestart(delayMs: number): void {
    this.#restartAt = Date.now() + delayMs;
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      this.#restart();
    }, delayMs);
  }

  #restart(): void {
    const events = this.#events!;
    this.#restarting = (async () => {
      try {
        const next = await InstanceProcess.start(this.spec, this.env, this.stateDir);
        this.#process = next;
        this.#incarnation += 1;
        this.#restarts += 1;
        this.#restartAt = undefined;
        this.#watch(next);
        // A stop that came meanwhile waits for this and stops `next` itself.
        if (this.#stopping) return;
        events.restarted(this.spec, next.pid, this.#restarts);
        void this.#awaitHealthy(next);
      } catch (error) {
        if (this.#stopping) return;
        const delayMs = this.#backoff.next();
        this.#scheduleRestart(delayMs);
        events.restartFailed(this.spec, error, delayMs);
      }
    })().finally(() => (this.#restarting = undefined));
  }

  /** Says when a restarted process serves, and from then on times its stability. */
  async #awaitHealthy(process: InstanceProcess): Promise<void> {
    const current = (): boolean => process === this.#process && !process.exit && !this.#stopping;
    while (current()) {
      if (await this.#isHealthy!().catch(() => false)) {
        if (!current()) return;
        this.#events?.healthy(this.spec, this.#restarts);
        this.#armStableTimer();
        return;
      }
      await sleep(HEALTH_POLL_MS);
    }
  }

  /** A process that keeps running STABLE_AFTER_MS has recovered: the backoff starts over. */
  #armStableTimer(): void {
    clearTimeout(this.#stableTimer);
    this.#stableTimer = setTimeout(() => this.#backoff.reset(), STABLE_AFTER_MS);
  }
}
