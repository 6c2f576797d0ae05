import type { LinearizabilityFailure, Verdict } from '@catmesh/linearizability';
import type { ResolvedCheckOptions } from '../check-options.js';
import type { OperationStats } from '../verdict/operation-stats.js';

// What a check found, as summary.json holds it and `runCheck` returns it.

export type CheckName = 'linearizable' | 'convergence' | 'durability' | 'crashes';

export interface CheckVerdict {
  readonly name: CheckName;
  readonly passed: boolean;
  /** ok / illegal / unknown for the history checks; ok / failed for the others. */
  readonly verdict: Verdict | 'failed';
  /** One line saying what was seen. */
  readonly detail: string;
  /** For an illegal history check: the impossible operation, explained. */
  readonly failure?: LinearizabilityFailure;
}

export interface FaultRecord {
  readonly description: string;
  /** Milliseconds from the start of the clients' run. */
  readonly startMs: number;
  /** Undefined if it was still in force when the run ended (it was reverted then). */
  readonly endMs: number | undefined;
}

export interface CheckReport {
  readonly passed: boolean;
  readonly options: ResolvedCheckOptions;
  readonly faults: readonly FaultRecord[];
  /** Faults the schedule asked for that could not be applied, with the reason. */
  readonly faultErrors: readonly string[];
  readonly stats: OperationStats;
  readonly checks: readonly CheckVerdict[];
  readonly files: {
    readonly dir: string;
    /** Every operation, the final reads of the durability check included. */
    readonly history: string;
    /** The history drawn, with the failing key when a history check failed. */
    readonly html: string;
    readonly summary: string;
  };
}
