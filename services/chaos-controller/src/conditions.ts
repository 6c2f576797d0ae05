// Conditions as the API conventions define them (metav1.Condition): one per type, and a type's
// lastTransitionTime moves only when its status does, so `kubectl describe` shows when a thing
// became true rather than when the controller last wrote.
import type { ExperimentCondition } from '@catmesh/chaos';

/**
 * Accepted: the spec is valid and selects targets (False ends the experiment in Failed).
 * Injected: a fault of the experiment is in force now.
 * Complete: the run is over; its reason says how it ended.
 */
export type ConditionType = 'Accepted' | 'Injected' | 'Complete';

export interface ConditionChange {
  readonly type: ConditionType;
  readonly status: ExperimentCondition['status'];
  /** CamelCase, one word: `Finished`, `Invalid`, `NoTargets`. */
  readonly reason: string;
  readonly message: string;
}

export function setCondition(
  conditions: readonly ExperimentCondition[],
  change: ConditionChange,
  observedGeneration: number,
  now: Date,
): ExperimentCondition[] {
  const previous = conditions.find((condition) => condition.type === change.type);
  const next: ExperimentCondition = {
    ...change,
    lastTransitionTime:
      previous !== undefined && previous.status === change.status
        ? previous.lastTransitionTime
        : now.toISOString(),
    observedGeneration,
  };
  return [...conditions.filter((condition) => condition.type !== change.type), next];
}
