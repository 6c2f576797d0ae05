// The mesh of one experiment run, through the Kubernetes API: its pods are the instances, a
// kill deletes a pod, and a partition is made of NetworkPolicies and pod labels (see
// partition-objects.ts). Every partition carries its expiry and an owner reference to the
// experiment, and all that its revert needs is read back from the API, so a controller that
// restarts mid-run, the sweeper, or the garbage collector can end what this one applied.
import { createHash } from 'node:crypto';
import type {
  MeshAccess,
  MeshInstance,
  NetworkFaults,
  NetworkPartitionRequest,
  ProcessFaultRecord,
  ProcessFaultRequest,
  ProcessFaults,
} from '@catmesh/chaos';
import {
  PARTITION_LABEL,
  PARTITION_PEER_LABEL,
  partitionPolicy,
  type NetworkPolicy,
} from '@catmesh/netpol';
import type {
  CoreV1Api,
  NetworkingV1Api,
  V1NetworkPolicy,
  V1OwnerReference,
  V1Pod,
} from '@kubernetes/client-node';
import { policyModel, policyObject } from './network-policy-objects.js';
import {
  apiErrorText,
  changePodLabels,
  deletePolicy,
  EXPERIMENT_LABEL,
  EXPIRES_AT_ANNOTATION,
  FAULT_ID_ANNOTATION,
  healPartition,
  labelValue,
  listPartitions,
  releasePod,
  type PartitionApis,
} from './partition-objects.js';
import { podInstance } from './pod-instances.js';

export interface KubernetesMeshOptions {
  readonly core: CoreV1Api;
  readonly networking: NetworkingV1Api;
  readonly namespace: string;
  /** Selects the mesh's pods: `app.kubernetes.io/instance=<release>`. */
  readonly podSelector: string;
  /** The experiment: it owns every policy the run creates, so deleting it deletes them. */
  readonly owner: Pick<V1OwnerReference, 'apiVersion' | 'kind' | 'name' | 'uid'>;
  /** Epoch milliseconds; the clock the expiry annotations are written with. */
  readonly now?: () => number;
}

export class KubernetesMesh implements MeshAccess {
  readonly description: string;
  readonly processFaults: ProcessFaults;
  readonly networkFaults: NetworkFaults;
  readonly #apis: PartitionApis;
  readonly #options: KubernetesMeshOptions;
  readonly #now: () => number;
  readonly #kills = new Map<string, ProcessFaultRecord>();

  constructor(options: KubernetesMeshOptions) {
    this.#options = options;
    this.#apis = options;
    this.#now = options.now ?? Date.now;
    this.description = `the pods ${options.podSelector} in namespace ${options.namespace}`;
    this.processFaults = {
      // Nothing in the API stops a container's processes; the app mechanism's pause (the event
      // loop blocked from inside) is how a pod is paused.
      kinds: ['kill'],
      apply: (request) => this.kill(request),
      list: () => Promise.resolve([...this.#kills.values()]),
      // The pod's controller has already replaced it: there is nothing to undo, only to forget.
      revert: (id) => {
        this.#kills.delete(id);
        return Promise.resolve();
      },
      revertAll: (experiment) => {
        const ids = [...this.#kills.values()]
          .filter((kill) => experiment === undefined || kill.experiment === experiment)
          .map((kill) => kill.id);
        for (const id of ids) this.#kills.delete(id);
        return Promise.resolve(ids);
      },
    };
    this.networkFaults = {
      mechanisms: ['networkpolicy'],
      apply: (request) => this.partition(request),
      revert: async (id) => {
        await this.heal(`${PARTITION_LABEL}=${labelValue(id)}`);
      },
      revertAll: (experiment) =>
        this.heal(
          experiment === undefined
            ? PARTITION_LABEL
            : `${EXPERIMENT_LABEL}=${labelValue(experiment)}`,
        ),
    };
  }

  async instances(): Promise<readonly MeshInstance[]> {
    return (await this.pods())
      .flatMap((pod) => podInstance(pod) ?? [])
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The mesh's pods, or (by `fieldSelector`) one of them: list is all RBAC grants on pods. */
  private async pods(fieldSelector?: string): Promise<V1Pod[]> {
    const { namespace, podSelector } = this.#options;
    const { items } = await this.#apis.core.listNamespacedPod({
      namespace,
      labelSelector: podSelector,
      ...(fieldSelector !== undefined && { fieldSelector }),
    });
    return items;
  }

  /**
   * Deletes the pod at once (grace 0: SIGKILL, no SIGTERM first, as a kill is meant). Its
   * ReplicaSet or StatefulSet creates it again, on the controller's schedule, so `restartAfterMs`
   * cannot be honoured here: the restart comes when Kubernetes brings it.
   */
  private async kill(request: ProcessFaultRequest): Promise<ProcessFaultRecord> {
    if (request.kind !== 'kill') {
      throw new Error(`${request.instance}: a process cannot be paused through the Kubernetes API`);
    }
    const appliedAt = this.#now();
    try {
      await this.#apis.core.deleteNamespacedPod({
        name: request.instance,
        namespace: this.#options.namespace,
        gracePeriodSeconds: 0,
      });
    } catch (error) {
      throw new Error(`killing pod ${request.instance}: ${apiErrorText(error)}`, { cause: error });
    }
    const record: ProcessFaultRecord = {
      id: request.id,
      kind: 'kill',
      instance: request.instance,
      experiment: request.experiment,
      appliedAt,
      expiresAt: appliedAt + request.durationMs,
    };
    this.#kills.set(request.id, record);
    return record;
  }

  /**
   * The partition's policies, then the labels that move the pods onto them; all or nothing: a
   * failed step undoes the steps before it, so a refused partition leaves the mesh as it was.
   */
  private async partition(request: NetworkPartitionRequest): Promise<void> {
    if (request.mechanism !== 'networkpolicy') {
      throw new Error(`${request.mechanism}: not a mechanism of ${this.description}`);
    }
    const { namespace, owner } = this.#options;
    const id = labelValue(request.id);
    const [pods, listed] = await Promise.all([
      this.pods(),
      // The chart's policies (and any other of the namespace), not another partition's.
      this.#apis.networking.listNamespacedNetworkPolicy({
        namespace,
        labelSelector: `!${PARTITION_LABEL}`,
      }),
    ]);
    const byName = new Map(pods.map((pod) => [pod.metadata?.name, pod]));
    const named = [...request.targets, ...request.peers];
    const missing = named.filter((pod) => !byName.has(pod));
    if (missing.length > 0) {
      throw new Error(
        `partition ${request.id}: ${missing.join(', ')}: not among ${this.description}`,
      );
    }
    const inUse = named.filter((pod) => inPartition(byName.get(pod)));
    if (inUse.length > 0) {
      throw new Error(
        `partition ${request.id}: ${inUse.join(', ')}: already in a NetworkPolicy partition`,
      );
    }
    const models = listed.items.map((object) => policyModel(object, namespace));
    const metadata = {
      labels: { [EXPERIMENT_LABEL]: labelValue(request.experiment), [PARTITION_LABEL]: id },
      annotations: {
        [EXPIRES_AT_ANNOTATION]: new Date(this.#now() + request.durationMs).toISOString(),
        [FAULT_ID_ANNOTATION]: request.id,
      },
      // controller, but not blockOwnerDeletion: that needs update on the experiment's
      // finalizers, a grant the controller has no other use for.
      ownerReferences: [{ ...owner, controller: true }],
    };
    // Computed for every target before anything is created: a pod the policies leave open is
    // refused here, with nothing to undo.
    const policies = request.targets.map((pod): V1NetworkPolicy => {
      let policy: NetworkPolicy;
      try {
        policy = partitionPolicy(models, {
          id,
          policyName: policyName(id, pod),
          namespace,
          podLabels: byName.get(pod)?.metadata?.labels ?? {},
          direction: request.direction,
        });
      } catch (error) {
        throw new Error(`partition ${request.id}: pod ${pod}: ${(error as Error).message}`, {
          cause: error,
        });
      }
      return policyObject(policy, metadata);
    });
    const created: string[] = [];
    const labelled: { pod: V1Pod; key: string }[] = [];
    try {
      for (const policy of policies) {
        const name = policy.metadata?.name ?? '';
        try {
          await this.#apis.networking.createNamespacedNetworkPolicy({ namespace, body: policy });
        } catch (error) {
          throw new Error(`creating NetworkPolicy ${name}: ${apiErrorText(error)}`, {
            cause: error,
          });
        }
        created.push(name);
      }
      const switches = [
        ...request.targets.map((name) => ({ name, key: PARTITION_LABEL })),
        ...request.peers.map((name) => ({ name, key: PARTITION_PEER_LABEL })),
      ];
      for (const { name, key } of switches) {
        labelled.push({ pod: await this.claim(byName.get(name), name, key, id), key });
      }
    } catch (error) {
      throw await this.undone(request, error, id, labelled, created);
    }
  }

  /**
   * Labels a pod onto partition `id` if it is still in none. The patch is conditional on the
   * version the check was made on, so a partition that took the pod meanwhile (another run's,
   * applied at the same moment) is seen, never overwritten.
   */
  private async claim(
    seen: V1Pod | undefined,
    name: string,
    key: string,
    id: string,
  ): Promise<V1Pod> {
    const patched =
      seen &&
      (await changePodLabels(this.#apis, seen, (pod) => {
        if (inPartition(pod)) {
          throw new Error(`labelling pod ${name}: it is in another NetworkPolicy partition now`);
        }
        return { [key]: id };
      }));
    if (patched === undefined) throw new Error(`labelling pod ${name}: it is gone`);
    return patched;
  }

  /** Undoes a partial partition, labels first; the error to throw says what failed, and how. */
  private async undone(
    request: NetworkPartitionRequest,
    error: unknown,
    id: string,
    labelled: readonly { pod: V1Pod; key: string }[],
    created: readonly string[],
  ): Promise<Error> {
    const failed = `partition ${request.id}: ${(error as Error).message}`;
    try {
      await Promise.all(labelled.map(({ pod, key }) => releasePod(this.#apis, pod, key, id)));
      await Promise.all(created.map((name) => deletePolicy(this.#apis, name)));
    } catch (undo) {
      return new Error(
        `${failed}; undoing it failed too (${(undo as Error).message}): the partition ends at its expiry, when the sweeper removes it`,
        { cause: error },
      );
    }
    return new Error(`${failed} (undone)`, { cause: error });
  }

  /** Heals every partition that has a policy matching `selector`; returns their request ids. */
  private async heal(selector: string): Promise<string[]> {
    const partitions = await listPartitions(this.#apis, selector);
    await Promise.all(
      [...partitions].map(([id, { policies }]) => healPartition(this.#apis, id, policies)),
    );
    return [...partitions.values()].map((partition) => partition.faultId);
  }
}

function inPartition(pod: V1Pod | undefined): boolean {
  const labels = pod?.metadata?.labels ?? {};
  return labels[PARTITION_LABEL] !== undefined || labels[PARTITION_PEER_LABEL] !== undefined;
}

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** `partition-<id>-<pod>` when that is an object name, else with a digest in place of the id. */
function policyName(id: string, pod: string): string {
  const readable = `partition-${id}-${pod}`;
  if (readable.length <= 253 && SUBDOMAIN.test(readable)) return readable;
  const digest = createHash('sha256').update(id).digest('hex').slice(0, 16);
  return `partition-${digest}-${pod}`;
}
