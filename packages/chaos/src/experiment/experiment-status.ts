// What a ChaosExperiment in a cluster says about itself: the status the controller writes
// through the status subresource. Locally the report says it all; in a cluster `kubectl get`
// and `kubectl describe` must tell the story on their own, so the status carries the phase,
// one record per target (what was done to it and until when), conditions in the Kubernetes
// convention, and the verdict and summary of the report.
import { HYPOTHESIS_VERDICTS, type HypothesisVerdict } from '../report/report-types.js';

export const EXPERIMENT_PHASES = [
  'Pending',
  'Running',
  'Recovering',
  'Finished',
  'Failed',
] as const;
export type ExperimentPhase = (typeof EXPERIMENT_PHASES)[number];

export const TARGET_STATES = ['Pending', 'Injected', 'Recovered', 'Gone', 'Failed'] as const;
/** Pending → Injected → Recovered; Gone when the pod left before it was recovered. */
export type TargetState = (typeof TARGET_STATES)[number];

/** One target of one step: resolved once, then driven toward the step's desired state. */
export interface TargetRecord {
  readonly step: string;
  readonly pod: string;
  readonly ip?: string;
  readonly role?: 'leader' | 'follower';
  readonly state: TargetState;
  readonly injectedAt?: string;
  /** When the target itself drops the fault, whatever happens to the controller. */
  readonly expiresAt?: string;
  readonly recoveredAt?: string;
  readonly message?: string;
}

/** A condition as Kubernetes API conventions define it (metav1.Condition). */
export interface ExperimentCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly lastTransitionTime: string;
  readonly observedGeneration: number;
}

export interface ExperimentStatus {
  readonly observedGeneration?: number;
  readonly phase?: ExperimentPhase;
  readonly startedAt?: string;
  readonly finishedAt?: string;
  /**
   * Carried by every fault the run applied, so that a controller that did not start the run (a
   * restart, a new Lease holder) can still revert them.
   */
  readonly runId?: string;
  /** The fault in force now, in a few words (a printer column). */
  readonly fault?: string;
  /** How many targets are in which state, e.g. `2/3 injected` (a printer column). */
  readonly targetSummary?: string;
  readonly targets?: readonly TargetRecord[];
  readonly conditions?: readonly ExperimentCondition[];
  readonly verdict?: HypothesisVerdict;
  readonly summary?: string;
  /** The ConfigMap, owned by the experiment, that holds the report as JSON and HTML. */
  readonly reportConfigMap?: string;
}

const time = { type: 'string', format: 'date-time' } as const;
const text = { type: 'string' } as const;

export const experimentStatusSchema = {
  type: 'object',
  properties: {
    observedGeneration: { type: 'integer', minimum: 0 },
    phase: { type: 'string', enum: [...EXPERIMENT_PHASES] },
    startedAt: time,
    finishedAt: time,
    runId: text,
    fault: text,
    targetSummary: text,
    targets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['step', 'pod', 'state'],
        properties: {
          step: text,
          pod: text,
          ip: text,
          role: { type: 'string', enum: ['leader', 'follower'] },
          state: { type: 'string', enum: [...TARGET_STATES] },
          injectedAt: time,
          expiresAt: time,
          recoveredAt: time,
          message: text,
        },
      },
    },
    conditions: {
      type: 'array',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      items: {
        type: 'object',
        required: ['type', 'status', 'reason', 'message', 'lastTransitionTime'],
        properties: {
          type: text,
          status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
          reason: text,
          message: text,
          lastTransitionTime: time,
          observedGeneration: { type: 'integer', minimum: 0 },
        },
      },
    },
    verdict: { type: 'string', enum: [...HYPOTHESIS_VERDICTS] },
    summary: text,
    reportConfigMap: text,
  },
} as const;
