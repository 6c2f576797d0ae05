// The faults in force in this process. Each one ends on its own at its absolute expiry, by a
// timer of this process: whoever applied it may be gone by then.
import type { faultsV1 } from '@catmesh/proto';
import type { AppFault, AppFaultKind } from './app-fault.js';
import { blockEventLoop } from './block-event-loop.js';
import { validateAppFault } from './validate-app-fault.js';

/** Why a fault ended. */
export type FaultEnd = 'reverted' | 'expired' | 'replaced';

/** One fault in force, with what the gate keeps for it. */
export interface ActiveAppFault {
  readonly fault: AppFault;
  readonly appliedAtUnixMs: number;
  /** Calls, messages and pauses it has acted on. */
  injections: number;
  /** Bandwidth: when (performance.now) the link has sent what it was given so far. */
  linkFreeAt: number;
}

export interface FaultTableOptions {
  /** Unix epoch ms; Date.now unless given. */
  readonly now?: () => number;
  /** Told when a fault starts. */
  readonly onApply?: (fault: AppFault) => void;
  /** Told when a fault ends, whatever ended it. */
  readonly onEnd?: (fault: AppFault, reason: FaultEnd) => void;
  /** Told each time a pause fault blocks the event loop (after the block). */
  readonly onPause?: (entry: ActiveAppFault) => void;
}

/** The first pause starts this long after ApplyFault, so that its answer goes out first. */
const PAUSE_LEAD_MS = 10;

export class FaultTable {
  /** Replaced, never changed, on every apply and end: the gate iterates it without a copy. */
  #active: readonly ActiveAppFault[] = [];
  readonly #timers = new Map<string, NodeJS.Timeout[]>();
  readonly #now: () => number;
  readonly #onApply: FaultTableOptions['onApply'];
  readonly #onEnd: FaultTableOptions['onEnd'];
  readonly #onPause: FaultTableOptions['onPause'];

  constructor(options: FaultTableOptions = {}) {
    this.#now = options.now ?? Date.now;
    this.#onApply = options.onApply;
    this.#onEnd = options.onEnd;
    this.#onPause = options.onPause;
  }

  /** The faults in force, in the order they were applied. */
  get active(): readonly ActiveAppFault[] {
    return this.#active;
  }

  /**
   * Validates and starts a fault; one with the same id is replaced (a retried ApplyFault does no
   * harm). Throws a FaultValidationError naming the field, and then changes nothing.
   */
  apply(wire: faultsV1.Fault | undefined): ActiveAppFault {
    const now = this.#now();
    const fault = validateAppFault(wire, now);
    if (this.#active.some((entry) => entry.fault.id === fault.id)) {
      this.#end(fault.id, 'replaced');
    }
    const entry: ActiveAppFault = {
      fault,
      appliedAtUnixMs: now,
      injections: 0,
      linkFreeAt: 0,
    };
    this.#active = [...this.#active, entry];
    this.#timers.set(fault.id, [this.#expiryTimer(fault), ...this.#pauseTimers(entry)]);
    this.#onApply?.(fault);
    return entry;
  }

  /** Ends a fault early; false when none had that id. */
  revert(id: string): boolean {
    return this.#end(id, 'reverted');
  }

  /** Ends every fault, or those of `experiment` when it is not empty; returns their ids. */
  revertAll(experiment = ''): string[] {
    const ids = this.#active
      .filter((entry) => experiment === '' || entry.fault.experiment === experiment)
      .map((entry) => entry.fault.id);
    for (const id of ids) this.#end(id, 'reverted');
    return ids;
  }

  /** How many faults of each kind are in force. */
  countByKind(): Map<AppFaultKind, number> {
    const counts = new Map<AppFaultKind, number>();
    for (const { fault } of this.#active) {
      counts.set(fault.effect.kind, (counts.get(fault.effect.kind) ?? 0) + 1);
    }
    return counts;
  }

  #end(id: string, reason: FaultEnd): boolean {
    const entry = this.#active.find((candidate) => candidate.fault.id === id);
    if (entry === undefined) return false;
    this.#active = this.#active.filter((candidate) => candidate !== entry);
    for (const timer of this.#timers.get(id) ?? []) clearTimeout(timer);
    this.#timers.delete(id);
    this.#onEnd?.(entry.fault, reason);
    return true;
  }

  /** Unref'd: a fault never keeps a process alive that would otherwise exit. */
  #expiryTimer(fault: AppFault): NodeJS.Timeout {
    const timer = setTimeout(() => {
      // A timer never fires early by its own clock, but the wall clock may have been stepped.
      const left = fault.expiresAtUnixMs - this.#now();
      if (left > 0) this.#timers.get(fault.id)?.push(this.#expiryTimer(fault));
      else this.#end(fault.id, 'expired');
    }, fault.expiresAtUnixMs - this.#now());
    timer.unref();
    return timer;
  }

  #pauseTimers(entry: ActiveAppFault): NodeJS.Timeout[] {
    const effect = entry.fault.effect;
    if (effect.kind !== 'pause') return [];
    const pause = () => {
      blockEventLoop(effect.pauseMs);
      entry.injections += 1;
      this.#onPause?.(entry);
    };
    const first = setTimeout(() => {
      pause();
      if (effect.everyMs > 0 && this.#timers.has(entry.fault.id)) {
        const every = setInterval(pause, effect.everyMs);
        every.unref();
        this.#timers.get(entry.fault.id)?.push(every);
      }
    }, PAUSE_LEAD_MS);
    first.unref();
    return [first];
  }
}
