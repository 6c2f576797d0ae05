// A ChaosExperiment as the API serves it, and what the controller reads off it: the experiment
// itself (validated as local files are), the annotations a user steers a run with, and the owner
// reference that ties every object a run creates to it, so that deleting the experiment
// garbage-collects them.
import {
  EXPERIMENT_API_VERSION,
  EXPERIMENT_KIND,
  ExperimentError,
  validateExperiment,
  type ChaosExperiment,
  type ExperimentStatus,
} from '@catmesh/chaos';
import type { V1ObjectMeta, V1OwnerReference } from '@kubernetes/client-node';

export interface ExperimentResource {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: V1ObjectMeta & { readonly name: string; readonly uid: string };
  readonly spec?: unknown;
  readonly status?: ExperimentStatus;
}

/** Held until every fault of the run is reverted, so a deletion cannot strand one. */
export const FINALIZER = 'chaos.catmesh.dev/recover-faults';
/**
 * `"true"`: let the experiment go even if a fault could not be reverted (its target is gone for
 * good); the fault's own expiry is then what ends it.
 */
export const FORCE_CLEAN_ANNOTATION = 'chaos.catmesh.dev/force-clean';
/** A number in (0, 1] that shortens the experiment's timeline, as `catmesh chaos run --time-scale`. */
export const TIME_SCALE_ANNOTATION = 'chaos.catmesh.dev/time-scale';

/** The experiment in the local file format; throws ExperimentError naming every bad field. */
export function experimentOf(resource: ExperimentResource): ChaosExperiment {
  const { name, namespace, labels, annotations } = resource.metadata;
  // Only the metadata a local file may carry: the server's own fields (uid, managedFields, ...)
  // are not part of the experiment.
  return validateExperiment(
    {
      apiVersion: resource.apiVersion ?? EXPERIMENT_API_VERSION,
      kind: resource.kind ?? EXPERIMENT_KIND,
      metadata: {
        name,
        ...(namespace !== undefined && { namespace }),
        ...(labels !== undefined && { labels }),
        ...(annotations !== undefined && { annotations }),
      },
      spec: resource.spec,
    },
    sourceOf(resource),
  );
}

/** The time scale the annotation asks for (1 when absent); throws ExperimentError on a bad one. */
export function timeScaleOf(resource: ExperimentResource): number {
  const text = resource.metadata.annotations?.[TIME_SCALE_ANNOTATION];
  if (text === undefined) return 1;
  const value = Number(text);
  if (!(value > 0 && value <= 1)) {
    throw new ExperimentError(sourceOf(resource), [
      {
        path: `metadata.annotations.${TIME_SCALE_ANNOTATION}`,
        message: `must be a number in (0, 1], not ${JSON.stringify(text)}`,
      },
    ]);
  }
  return value;
}

/** How messages name the experiment: as kubectl does. */
export function sourceOf(resource: ExperimentResource): string {
  return `chaosexperiments/${resource.metadata.name}`;
}

export function forceCleanRequested(resource: ExperimentResource): boolean {
  return resource.metadata.annotations?.[FORCE_CLEAN_ANNOTATION] === 'true';
}

export function ownerReferenceOf(resource: ExperimentResource): V1OwnerReference {
  return {
    apiVersion: EXPERIMENT_API_VERSION,
    kind: EXPERIMENT_KIND,
    name: resource.metadata.name,
    uid: resource.metadata.uid,
    // No blockOwnerDeletion: setting it needs update on the owner's finalizers subresource
    // (OwnerReferencesPermissionEnforcement), a grant the controller does not otherwise need.
    controller: true,
  };
}
