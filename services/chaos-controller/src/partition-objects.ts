// What a networkpolicy partition is in the API, and how it heals. A partition is its own
// NetworkPolicy per target pod plus the labels that switch the pods onto it (@catmesh/netpol's
// PARTITION_LABEL on the targets, PARTITION_PEER_LABEL on their peers, both holding the
// partition's id). Everything needed to find and heal it is on those objects, never in a
// process's memory, so whoever comes later (a restarted controller, the sweeper) can end it.
import { createHash } from 'node:crypto';
import { PARTITION_LABEL, PARTITION_PEER_LABEL } from '@catmesh/netpol';
import type { CoreV1Api, NetworkingV1Api, V1Pod } from '@kubernetes/client-node';
import { MERGE_PATCH, statusCodeOf } from './kube-apis.js';

/** On a partition's policies: the run that made them (the `experiment` of its requests). */
export const EXPERIMENT_LABEL = 'chaos.catmesh.dev/experiment';
/** On a partition's policies: when the partition ends, even if no run is left to end it. */
export const EXPIRES_AT_ANNOTATION = 'chaos.catmesh.dev/expires-at';
/** On a partition's policies: the request's id, which a label value may not hold as it is. */
export const FAULT_ID_ANNOTATION = 'chaos.catmesh.dev/fault-id';

export interface PartitionApis {
  readonly core: CoreV1Api;
  readonly networking: NetworkingV1Api;
  readonly namespace: string;
}

const LABEL_VALUE = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/**
 * A label value for an id: the id itself when it is one, else a digest of it. The same id always
 * gives the same value, which is what lets a later process select what an earlier one labelled.
 */
export function labelValue(id: string): string {
  if (LABEL_VALUE.test(id)) return id;
  return `p-${createHash('sha256').update(id).digest('hex').slice(0, 16)}`;
}

/** One partition as its policies show it. */
export interface PartitionPolicies {
  /** The request's id (the label value when the annotation is missing). */
  readonly faultId: string;
  readonly policies: string[];
  /** Each policy's expiry annotation, undefined where it has none. */
  readonly expiries: (string | undefined)[];
}

/** The partitions, by id (a label value), that have a policy matching `labelSelector`. */
export async function listPartitions(
  apis: PartitionApis,
  labelSelector: string,
): Promise<Map<string, PartitionPolicies>> {
  const { items } = await apis.networking.listNamespacedNetworkPolicy({
    namespace: apis.namespace,
    labelSelector,
  });
  const partitions = new Map<string, PartitionPolicies>();
  for (const { metadata } of items) {
    const id = metadata?.labels?.[PARTITION_LABEL];
    if (id === undefined || metadata?.name === undefined) continue;
    const partition = partitions.get(id) ?? {
      faultId: metadata.annotations?.[FAULT_ID_ANNOTATION] ?? id,
      policies: [],
      expiries: [],
    };
    partition.policies.push(metadata.name);
    partition.expiries.push(metadata.annotations?.[EXPIRES_AT_ANNOTATION]);
    partitions.set(id, partition);
  }
  return partitions;
}

/**
 * Ends partition `id` (a label value): first every pod is unlabelled, which puts it back under
 * the chart's allow policies, then the partition's policies are deleted. The other order would
 * leave a labelled pod under no allow policy at all, cut off from everything, for a moment or,
 * if the controller died in between, for good. Gone pods and policies are fine: the end state
 * is what matters. Returns the pods unlabelled.
 */
export async function healPartition(
  apis: PartitionApis,
  id: string,
  policies: readonly string[],
): Promise<string[]> {
  const labelled = await Promise.all(
    [PARTITION_LABEL, PARTITION_PEER_LABEL].map(async (key) => {
      const { items } = await apis.core.listNamespacedPod({
        namespace: apis.namespace,
        labelSelector: `${key}=${id}`,
      });
      return items.map((pod) => ({ pod, key }));
    }),
  );
  const pods = labelled.flat();
  await Promise.all(pods.map(({ pod, key }) => releasePod(apis, pod, key, id)));
  await Promise.all(policies.map((name) => deletePolicy(apis, name)));
  return pods.flatMap(({ pod }) => pod.metadata?.name ?? []);
}

/** Removes label `key` from a pod if it still holds partition `id`, and never another's. */
export async function releasePod(
  apis: PartitionApis,
  seen: V1Pod,
  key: string,
  id: string,
): Promise<void> {
  await changePodLabels(apis, seen, (pod) =>
    pod.metadata?.labels?.[key] === id ? { [key]: null } : undefined,
  );
}

/** A conflict is a pod that changed since it was seen; read again and retried this often. */
const CONFLICT_ATTEMPTS = 3;

/**
 * Merge-patches a pod's labels with what `change` decides from the pod as seen (null removes a
 * label; undefined: nothing to do), on the condition that the pod is still at the version seen.
 * A pod that changed meanwhile (409: the kubelet's status, or another partition's label) is read
 * again and `change` decides again, so a decision is never applied to a pod it was not made on.
 * Returns the pod as patched, or undefined when it is gone or there was nothing to do.
 */
export async function changePodLabels(
  apis: PartitionApis,
  seen: V1Pod,
  change: (pod: V1Pod) => Readonly<Record<string, string | null>> | undefined,
): Promise<V1Pod | undefined> {
  const name = seen.metadata?.name ?? '';
  let current: V1Pod | undefined = seen;
  for (let attempt = 1; current !== undefined; attempt += 1) {
    const labels = change(current);
    if (labels === undefined) return undefined;
    try {
      return await apis.core.patchNamespacedPod(
        {
          name,
          namespace: apis.namespace,
          body: { metadata: { labels, resourceVersion: current.metadata?.resourceVersion } },
        },
        MERGE_PATCH,
      );
    } catch (error) {
      const code = statusCodeOf(error);
      if (code === 404) return undefined;
      if (code !== 409 || attempt === CONFLICT_ATTEMPTS) {
        throw new Error(`labelling pod ${name}: ${apiErrorText(error)}`, { cause: error });
      }
    }
    // list, not get: the Role grants list on pods, and a field selector makes it one pod.
    [current] = (
      await apis.core.listNamespacedPod({
        namespace: apis.namespace,
        fieldSelector: `metadata.name=${name}`,
      })
    ).items;
  }
  return undefined;
}

export async function deletePolicy(apis: PartitionApis, name: string): Promise<void> {
  try {
    await apis.networking.deleteNamespacedNetworkPolicy({ name, namespace: apis.namespace });
  } catch (error) {
    if (statusCodeOf(error) === 404) return;
    throw new Error(`deleting NetworkPolicy ${name}: ${apiErrorText(error)}`, { cause: error });
  }
}

/**
 * `403 pods "x" is forbidden: ...`: the status code and the API's own message, rather than
 * client-node's text, which carries the whole response with its headers.
 */
export function apiErrorText(error: unknown): string {
  const code = statusCodeOf(error);
  if (code === undefined) return error instanceof Error ? error.message : String(error);
  const body = (error as { body?: unknown }).body;
  let status: unknown = body;
  if (typeof body === 'string') {
    try {
      status = JSON.parse(body);
    } catch {
      return `${code} ${body}`;
    }
  }
  const message = (status as { message?: unknown } | null | undefined)?.message;
  return typeof message === 'string' ? `${code} ${message}` : `${code}`;
}
