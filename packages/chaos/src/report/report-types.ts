// What an experiment did, as data: the report's JSON is this type (report-schema.ts validates it),
// and the terminal summary and the HTML page are both rendered from it. Times are milliseconds
// since the run started unless a name says otherwise.
import type { Verdict } from '@catmesh/linearizability';
import type { Consistency, Probe } from '../experiment/experiment-types.js';

export const REPORT_API_VERSION = 'catmesh.dev/v1alpha1';
export const REPORT_KIND = 'ChaosReport';

export type WindowName = 'before' | 'during' | 'after';

export interface TimeWindow {
  readonly start: number;
  readonly end: number;
}

export interface WindowStats {
  readonly total: number;
  readonly ok: number;
  readonly failed: number;
  /** null when the window saw no operation. */
  readonly successRatio: number | null;
  /** Latencies of the successful operations; null when there were none. */
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
}

/** One second of an operation's life, for the charts. */
export interface SeriesPoint {
  readonly at: number;
  readonly ok: number;
  readonly failed: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface OperationReport {
  readonly name: string;
  /** What a user calls it: `PlaceOrder`. */
  readonly label: string;
  readonly windows: Readonly<Record<WindowName, WindowStats>>;
  /** From the first fault to the first failed operation; null when none failed. */
  readonly timeToFirstFailureMs: number | null;
  /** From that first failure to the next success; null when there was no failure or no success. */
  readonly timeToFirstSuccessMs: number | null;
  /**
   * From the end of the last fault until the operation met the steady state again (every second
   * from then on at least as good as the hypothesis asks; all successful if it asks nothing);
   * 0 when it never left it, null when it did not recover within the run.
   */
  readonly timeToRecoveryMs: number | null;
  /** The most frequent failure reasons, with their counts. */
  readonly errors: readonly { readonly error: string; readonly count: number }[];
  readonly series: readonly SeriesPoint[];
}

export interface StepRecord {
  readonly name: string;
  readonly mechanism: string;
  readonly kind: string;
  /** `latency 200ms ± 20ms (normal) on inventory, from orders`. */
  readonly description: string;
  readonly plannedStart: number;
  readonly plannedEnd: number;
  /** null when the step never applied (it failed, or the run was stopped first). */
  readonly appliedAt: number | null;
  readonly revertedAt: number | null;
  readonly targets: readonly string[];
  readonly peers: readonly string[] | null;
  /** Calls and messages the fault acted on, summed over its instances (app mechanism). */
  readonly injections: number | null;
  /** What happened while the fault held; null when it never applied or was never reverted. */
  readonly effect: StepEffect | null;
  readonly error?: string;
}

/** One step's own window, so that steps of one run can be told apart (and compared). */
export interface StepEffect {
  /** Who led when the fault was applied, and in which term; null without a known leader. */
  readonly leaderAtApply: { readonly name: string; readonly term: number } | null;
  /** The leader changes that began while it held. */
  readonly elections: readonly Election[];
  /** How far each cat-feeder replica's commit index moved while it held. */
  readonly commits: Readonly<Record<string, number>>;
  /** The workload's operations started while it held. */
  readonly operations: readonly {
    readonly name: string;
    readonly label: string;
    readonly ok: number;
    readonly failed: number;
  }[];
}

export interface LeaderSpan {
  readonly start: number;
  readonly end: number;
  /** null while no replica leads. */
  readonly leader: string | null;
  readonly term: number;
}

export interface Election {
  /** The last moment the old leader was seen leading. */
  readonly lostAt: number;
  /** The first moment the new leader was seen. */
  readonly electedAt: number;
  readonly gapMs: number;
  readonly from: string | null;
  readonly to: string;
  readonly term: number;
}

export interface RaftReport {
  readonly leaderTimeline: readonly LeaderSpan[];
  readonly leaderChanges: number;
  readonly elections: readonly Election[];
  /** Commit progress per replica: first and last commit index seen in each window. */
  readonly commitProgress: Readonly<Record<string, Readonly<Record<WindowName, number | null>>>>;
}

export interface LinearizabilityReport {
  readonly consistency: Consistency;
  readonly verdict: Verdict;
  readonly operations: number;
  readonly keys: number;
  /** The checker's plain-English account of the impossible operation, when illegal. */
  readonly explanation?: string;
  /** File names beside the report: the history, and the HTML explanation when illegal. */
  readonly historyFile: string;
  readonly explanationFile?: string;
}

export interface InvariantCheck {
  readonly name: string;
  readonly holds: boolean;
  readonly detail: string;
}

export interface ShopReport {
  /** Every order of the run the shop knows, including ones whose PlaceOrder the client saw fail. */
  readonly ordersPlaced: number;
  /** The orders PlaceOrder answered to the client. */
  readonly ordersAcknowledged: number;
  readonly byState: Readonly<Record<string, number>>;
  /** Orders acknowledged to the customer that the shop no longer knows. */
  readonly lost: readonly string[];
  /** Orders still not FULFILLED, REJECTED or FAILED after the settle time. */
  readonly stuck: readonly string[];
  readonly invariants: readonly InvariantCheck[];
}

export interface ProbeResult {
  readonly probe: Probe;
  readonly windows: Readonly<
    Record<WindowName, { readonly value: number | null; readonly holds: boolean }>
  >;
}

/**
 * held: the steady state held throughout; recovered: it broke during the fault and came back;
 * violated: it had not come back by the end; inconclusive: it did not hold before the first fault.
 */
export const HYPOTHESIS_VERDICTS = ['held', 'recovered', 'violated', 'inconclusive'] as const;
export type HypothesisVerdict = (typeof HYPOTHESIS_VERDICTS)[number];

export interface ChaosReport {
  readonly apiVersion: typeof REPORT_API_VERSION;
  readonly kind: typeof REPORT_KIND;
  readonly experiment: {
    readonly name: string;
    readonly description: string;
    readonly lesson: string | null;
    readonly source: string;
  };
  readonly run: {
    readonly id: string;
    readonly startedAt: string;
    readonly endedAt: string;
    readonly timeScale: number;
    /** Stopped before its end (Ctrl-C); the figures cover what ran. */
    readonly interrupted: boolean;
    readonly mesh: string;
  };
  readonly windows: Readonly<Record<WindowName, TimeWindow>>;
  readonly steps: readonly StepRecord[];
  readonly operations: readonly OperationReport[];
  readonly raft: RaftReport | null;
  readonly linearizability: LinearizabilityReport | null;
  readonly shop: ShopReport | null;
  readonly hypothesis: {
    readonly verdict: HypothesisVerdict;
    readonly probes: readonly ProbeResult[];
  };
  /** One sentence per finding, most important first: the top of every rendering. */
  readonly findings: readonly string[];
}
