import { describeFault, type FaultEvent } from '@catmesh/faults';

// When each fault was in force, on the history's clock, so that operations can be told apart by
// whether they ran during a fault.

export interface FaultWindow {
  readonly id: string;
  readonly description: string;
  /** History clock (ms). */
  readonly start: number;
  /** Undefined while the fault is still in force. */
  end: number | undefined;
}

export class FaultLog {
  private readonly windows = new Map<string, FaultWindow>();

  constructor(private readonly now: () => number) {}

  /** Pass to the injector as `onEvent`. */
  readonly record = (event: FaultEvent): void => {
    if (event.type === 'applied') {
      this.windows.set(event.id, {
        id: event.id,
        description: describeFault(event.fault),
        start: this.now(),
        end: undefined,
      });
    } else if (event.type === 'reverted') {
      const window = this.windows.get(event.id);
      if (window) window.end = this.now();
    }
  };

  get all(): readonly FaultWindow[] {
    return [...this.windows.values()];
  }

  /** Whether some fault was in force at `time`. */
  activeAt(time: number): boolean {
    for (const w of this.windows.values()) {
      if (time >= w.start && (w.end === undefined || time < w.end)) return true;
    }
    return false;
  }
}
