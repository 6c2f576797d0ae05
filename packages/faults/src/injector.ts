import { cleanupAtExit } from './exit-guard.js';
import type { Fault, FaultKind } from './model.js';
import { validateFault } from './validate-fault.js';

// What every mechanism offers (ARCHITECTURE.md rule 3), and the lifecycle they share: validate,
// apply, hand back a handle, revert on expiry, on request, or synchronously when this process
// ends. A mechanism only says how one fault turns into reversible steps.

export type RevertReason = 'expired' | 'requested' | 'exit';

export type FaultEvent =
  | { readonly type: 'applied'; readonly id: string; readonly fault: Fault; readonly at: number }
  | {
      readonly type: 'reverted';
      readonly id: string;
      readonly fault: Fault;
      readonly at: number;
      readonly reason: RevertReason;
    }
  | {
      readonly type: 'revert-failed';
      readonly id: string;
      readonly fault: Fault;
      readonly at: number;
      readonly reason: RevertReason;
      readonly error: unknown;
    };

/** A fault in force; reverting it is idempotent. */
export interface AppliedFault {
  readonly id: string;
  readonly fault: Fault;
  /** Epoch milliseconds. */
  readonly appliedAt: number;
  /** When the injector reverts it on its own (appliedAt + durationMs). */
  readonly expiresAt: number;
  readonly active: boolean;
  revert(): Promise<void>;
  /**
   * Packets the fault has dropped so far (the final count once reverted), or undefined when the
   * fault does not drop packets or the mechanism cannot count them.
   */
  droppedPackets(): Promise<number | undefined>;
}

export interface FaultInjector {
  /** The mechanism's name: `netfilter`, `app`, `networkpolicy`. */
  readonly mechanism: string;
  /** Validates and applies a fault; rejects with nothing left applied if any part fails. */
  apply(fault: Fault): Promise<AppliedFault>;
  active(): readonly AppliedFault[];
  /** Reverts every active fault; rejects with an AggregateError naming those that failed. */
  revertAll(): Promise<void>;
  /** Reverts everything and refuses further faults. */
  close(): Promise<void>;
}

/** One reversible change a fault is made of (a table in one namespace, one signal...). */
export interface FaultStep {
  apply(): Promise<void>;
  /** Undoes apply(); must succeed when the thing is already gone. */
  revert(): Promise<void>;
  /** Best-effort synchronous revert for the process 'exit' event. */
  revertAtExit(): void;
  readonly droppedPackets?: () => Promise<number>;
}

export interface FaultMechanism {
  readonly name: string;
  /** The node names this mechanism can act on for `kind`; throws UnsupportedFaultError if none. */
  knownTargets(kind: FaultKind): readonly string[];
  /** Turns a validated fault into steps; `id` is unique for this injector. */
  plan(fault: Fault, id: string): Promise<FaultStep[]>;
}

export interface InjectorOptions {
  readonly onEvent?: (event: FaultEvent) => void;
}

export function createInjector(
  mechanism: FaultMechanism,
  options: InjectorOptions = {},
): FaultInjector {
  const active = new Map<string, Handle>();
  // Steps of faults still being applied: a crash in the middle must undo them too.
  const applying = new Set<FaultStep>();
  let sequence = 0;
  let closed = false;
  let unregister: (() => void) | undefined;
  const emit = (event: FaultEvent): void => options.onEvent?.(event);

  const revertAtExit = (): void => {
    for (const step of applying) step.revertAtExit();
    for (const handle of active.values()) handle.revertAtExit();
  };
  // The exit cleanup is registered exactly while something is (being) applied.
  const updateExitCleanup = (): void => {
    const needed = active.size > 0 || applying.size > 0;
    if (needed && !unregister) unregister = cleanupAtExit(revertAtExit);
    if (!needed && unregister) {
      unregister();
      unregister = undefined;
    }
  };

  class Handle implements AppliedFault {
    readonly appliedAt = Date.now();
    readonly expiresAt: number;
    private readonly pending: FaultStep[];
    private reverting: Promise<void> | undefined;
    private readonly timer: NodeJS.Timeout;

    constructor(
      readonly id: string,
      readonly fault: Fault,
      private readonly steps: readonly FaultStep[],
    ) {
      this.pending = [...steps];
      this.expiresAt = this.appliedAt + fault.durationMs;
      this.timer = setTimeout(() => {
        // Failures are reported as events; a later revert() or revertAll() retries.
        this.revertFor('expired').catch(() => undefined);
      }, fault.durationMs);
      // The expiry must not keep the process alive: if it ends first, the exit cleanup reverts.
      this.timer.unref();
    }

    get active(): boolean {
      return this.pending.length > 0;
    }

    revert(): Promise<void> {
      return this.revertFor('requested');
    }

    revertFor(reason: RevertReason): Promise<void> {
      this.reverting ??= this.revertSteps(reason).finally(() => (this.reverting = undefined));
      return this.reverting;
    }

    async droppedPackets(): Promise<number | undefined> {
      const counts = await Promise.all(
        this.steps.flatMap((step) => (step.droppedPackets ? [step.droppedPackets()] : [])),
      );
      return counts.length === 0 ? undefined : counts.reduce((sum, n) => sum + n, 0);
    }

    revertAtExit(): void {
      clearTimeout(this.timer);
      for (const step of this.pending.splice(0).reverse()) step.revertAtExit();
      active.delete(this.id);
    }

    private async revertSteps(reason: RevertReason): Promise<void> {
      if (!this.active) return;
      clearTimeout(this.timer);
      const errors: unknown[] = [];
      // Undo in reverse order of application; a failed step stays pending for a retry.
      for (const step of [...this.pending].reverse()) {
        try {
          await step.revert();
          this.pending.splice(this.pending.indexOf(step), 1);
        } catch (error) {
          errors.push(error);
        }
      }
      if (errors.length === 0) {
        active.delete(this.id);
        updateExitCleanup();
        emit({ type: 'reverted', id: this.id, fault: this.fault, at: Date.now(), reason });
        return;
      }
      const error =
        errors.length === 1 ? errors[0] : new AggregateError(errors, `revert ${this.id}`);
      emit({
        type: 'revert-failed',
        id: this.id,
        fault: this.fault,
        at: Date.now(),
        reason,
        error,
      });
      throw error;
    }
  }

  const revertAll = async (): Promise<void> => {
    const results = await Promise.allSettled([...active.values()].map((h) => h.revert()));
    const failures = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length > 0) {
      throw new AggregateError(failures, `${failures.length} fault(s) could not be reverted`);
    }
  };

  return {
    mechanism: mechanism.name,
    async apply(input: Fault): Promise<AppliedFault> {
      if (closed) throw new Error(`the ${mechanism.name} injector is closed`);
      // Shape first (the input may come from a file or the wire), then the targets for its kind.
      const fault = validateFault(input);
      validateFault(fault, { knownTargets: mechanism.knownTargets(fault.kind) });
      const id = `f${++sequence}`;
      const steps = await mechanism.plan(fault, id);
      const done: FaultStep[] = [];
      try {
        for (const step of steps) {
          done.push(step);
          applying.add(step);
          updateExitCleanup();
          await step.apply();
        }
      } catch (error) {
        // All or nothing: undo the steps already taken (and the one that failed half-way).
        for (const step of done.reverse()) await step.revert().catch(() => undefined);
        for (const step of steps) applying.delete(step);
        updateExitCleanup();
        throw error;
      }
      const handle = new Handle(id, fault, steps);
      active.set(id, handle);
      for (const step of steps) applying.delete(step);
      emit({ type: 'applied', id, fault, at: handle.appliedAt });
      return handle;
    },
    active: () => [...active.values()],
    revertAll,
    async close(): Promise<void> {
      closed = true;
      await revertAll();
    },
  };
}
