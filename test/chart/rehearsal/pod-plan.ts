// The pods a set of rendered workloads asks for, as the controllers would make them: a
// StatefulSet's pods are <name>-<ordinal> with the pod-index label, a stable hostname and
// subdomain and a claim per volumeClaimTemplate; a Deployment's are <name>-<n>; a Job has one.
import type { IIoK8sApiAppsV1Deployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IIoK8sApiAppsV1StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import type { IIoK8sApiBatchV1Job } from 'kubernetes-models/batch/v1/Job';
import type { IIoK8sApiCoreV1PodSpec } from 'kubernetes-models/v1/PodSpec';
import type { RenderedObject } from '../helm-chart.js';

export interface PodPlan {
  readonly name: string;
  readonly namespace: string;
  readonly owner: { readonly kind: 'Deployment' | 'StatefulSet' | 'Job'; readonly name: string };
  readonly labels: Readonly<Record<string, string>>;
  readonly spec: IIoK8sApiCoreV1PodSpec;
  /** Volume name → the PersistentVolumeClaim it is bound to (StatefulSet claims). */
  readonly claims: Readonly<Record<string, string>>;
  /** A Job's pod runs once; the others are restarted when they end. */
  readonly restartAlways: boolean;
  readonly activeDeadlineSeconds?: number;
}

type Workload = IIoK8sApiAppsV1Deployment | IIoK8sApiAppsV1StatefulSet | IIoK8sApiBatchV1Job;

function podSpecOf(workload: Workload): {
  labels: Record<string, string>;
  spec: IIoK8sApiCoreV1PodSpec;
} {
  const template = workload.spec?.template;
  if (!template?.spec)
    throw new Error(`${workload.kind} ${workload.metadata?.name}: no pod template`);
  return { labels: { ...(template.metadata?.labels ?? {}) }, spec: template.spec };
}

/** The pods of every Deployment and StatefulSet in `objects`, in the order rendered. */
export function plannedPods(objects: readonly RenderedObject[], namespace: string): PodPlan[] {
  return objects.flatMap((object): PodPlan[] => {
    const name = object.metadata.name;
    if (object.kind === 'StatefulSet') {
      const set = object as unknown as IIoK8sApiAppsV1StatefulSet;
      const { labels, spec } = podSpecOf(set);
      return Array.from({ length: set.spec?.replicas ?? 1 }, (_, ordinal) => ({
        name: `${name}-${ordinal}`,
        namespace,
        owner: { kind: 'StatefulSet', name },
        labels: {
          ...labels,
          'apps.kubernetes.io/pod-index': String(ordinal),
          'statefulset.kubernetes.io/pod-name': `${name}-${ordinal}`,
        },
        // The pod's DNS name is <hostname>.<subdomain>: its headless Service.
        spec: { ...spec, hostname: `${name}-${ordinal}`, subdomain: set.spec?.serviceName },
        claims: Object.fromEntries(
          (set.spec?.volumeClaimTemplates ?? []).map((claim) => [
            claim.metadata?.name ?? '',
            `${claim.metadata?.name}-${name}-${ordinal}`,
          ]),
        ),
        restartAlways: true,
      }));
    }
    if (object.kind === 'Deployment') {
      const deployment = object as unknown as IIoK8sApiAppsV1Deployment;
      const { labels, spec } = podSpecOf(deployment);
      return Array.from({ length: deployment.spec?.replicas ?? 1 }, (_, n) => ({
        name: `${name}-${n}`,
        namespace,
        owner: { kind: 'Deployment', name },
        labels,
        spec,
        claims: {},
        restartAlways: true,
      }));
    }
    return [];
  });
}

/** The one pod a Job (the helm test hook) runs. */
export function jobPod(object: RenderedObject, namespace: string): PodPlan {
  const job = object as unknown as IIoK8sApiBatchV1Job;
  const { labels, spec } = podSpecOf(job);
  return {
    name: `${object.metadata.name}-0`,
    namespace,
    owner: { kind: 'Job', name: object.metadata.name },
    labels,
    spec,
    claims: {},
    restartAlways: false,
    ...(job.spec?.activeDeadlineSeconds !== undefined && {
      activeDeadlineSeconds: job.spec.activeDeadlineSeconds,
    }),
  };
}
