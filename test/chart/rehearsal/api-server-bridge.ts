// The chart rehearsal as the cluster behind an API server (the test kit's fake): the rendered
// objects stored as `helm install` leaves them, the rehearsal's pods reported as the kubelet
// reports them (IP, labels, owner, readiness), and what the API's clients change that a
// cluster acts on, carried back into the rehearsal:
// - a deleted pod is killed, and its StatefulSet or ReplicaSet makes it again (a new IP);
// - a pod's labels change, and so does what the policies select;
// - a NetworkPolicy created, replaced or deleted is enforced, or no longer.
// The fake deletes a pod object at once (it has no kubelet to wait for), so a deleted pod's
// processes get no grace period: what a kill (zero grace) asks for.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import {
  builtInType,
  builtInTypeOf,
  MERGE_PATCH,
  type KubeObject,
  type ObjectStore,
  type OwnerReference,
  type ResourceType,
  type WatchEvent,
} from '@catmesh/testkit';
import type { RenderedObject } from '../helm-chart.js';
import type { ChartRehearsal } from './chart-rehearsal.js';
import type { PodPlan } from './pod-plan.js';

// The kubelet reports a pod's status every few seconds at most; this keeps a test's wait short.
const STATUS_INTERVAL_MS = 250;

const PODS = builtInType('', 'pods');
const POLICIES = builtInType('networking.k8s.io', 'networkpolicies');
const REPLICA_SETS = builtInType('apps', 'replicasets');

/** The owner of each workload's pods, by workload name: a StatefulSet, or a ReplicaSet. */
export type ReleaseOwners = ReadonlyMap<string, OwnerReference>;

/**
 * Stores the objects of kinds the fake serves as `helm install` leaves them (a Deployment with
 * the ReplicaSet of its template), and returns who owns each workload's pods.
 */
export function installRelease(
  store: ObjectStore,
  objects: readonly RenderedObject[],
  namespace: string,
): ReleaseOwners {
  const owners = new Map<string, OwnerReference>();
  for (const object of objects) {
    // A helm test hook runs only under `helm test`: it is not installed.
    if (object.kind === 'Job') continue;
    // The fake has no Services: those stay the rehearsal's alone.
    const type = builtInTypeOf(object);
    if (type === undefined) continue;
    const stored = store.create(type, namespace, structuredClone(object));
    if (object.kind === 'StatefulSet') {
      owners.set(object.metadata.name, ownerOf(stored));
    } else if (object.kind === 'Deployment') {
      const template = (object.spec as { template: { metadata?: { labels?: object } } }).template;
      const hash = createHash('sha256').update(JSON.stringify(template)).digest('hex');
      const replicaSet = store.create(REPLICA_SETS, namespace, {
        metadata: {
          name: `${object.metadata.name}-${hash.slice(0, 10)}`,
          labels: template.metadata?.labels ?? {},
          ownerReferences: [ownerOf(stored)],
        },
        spec: object.spec,
      });
      owners.set(object.metadata.name, ownerOf(replicaSet));
    }
  }
  return owners;
}

/** What the bridge last wrote of a pod: a change in the API that differs is a client's. */
interface Mirrored {
  /** The rehearsal's pod uid: another one under the same name is a new pod. */
  readonly rehearsalUid: string;
  labels: Readonly<Record<string, string>>;
  ready: boolean;
}

export class ApiServerBridge {
  readonly #mirrored = new Map<string, Mirrored>();
  /** Pods the bridge itself is deleting from the API: their DELETED events are its own. */
  readonly #deleting = new Set<string>();
  /** Pods deleted through the API, being killed and made again: not reported meanwhile. */
  readonly #killing = new Set<string>();
  /** The kills, one at a time in the order the deletions came. */
  #kills: Promise<void> = Promise.resolve();
  readonly #stopWatches: (() => void)[] = [];
  readonly #timer: NodeJS.Timeout;
  /** Failures of carrying a change across, for the test to assert there were none. */
  readonly errors: string[] = [];

  private constructor(
    private readonly rehearsal: ChartRehearsal,
    private readonly store: ObjectStore,
    private readonly owners: ReleaseOwners,
    private readonly namespace: string,
  ) {
    this.#timer = setInterval(() => this.#carry(() => this.#reportPods()), STATUS_INTERVAL_MS);
  }

  /** Mirrors the rehearsal's pods, owned as `installRelease` said, both ways until close(). */
  static start(
    rehearsal: ChartRehearsal,
    store: ObjectStore,
    owners: ReleaseOwners,
    namespace: string,
  ): ApiServerBridge {
    const bridge = new ApiServerBridge(rehearsal, store, owners, namespace);
    bridge.#reportPods();
    const from = store.resourceVersion;
    const watch = (type: ResourceType, onEvent: (event: WatchEvent) => void) =>
      store.watch({ type, namespace, resourceVersion: from, selector: () => true, onEvent });
    bridge.#stopWatches.push(
      watch(PODS, (event) => bridge.#onPod(event)),
      watch(POLICIES, (event) => bridge.#onPolicy(event)),
    );
    return bridge;
  }

  /** Stops mirroring, after the kill under way. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    for (const stop of this.#stopWatches) stop();
    await this.#kills;
  }

  /**
   * Carries a change across, keeping its failure. The rehearsal takes a label or policy change
   * into its state at once (its enforcement follows in order), so nothing waits here for it.
   */
  #carry(change: () => void | Promise<void>): void {
    const record = (error: unknown) => void this.errors.push(String(error));
    try {
      void Promise.resolve(change()).catch(record);
    } catch (error) {
      record(error);
    }
  }

  /** The kubelet's side: every pod of the rehearsal as the API should show it now. */
  #reportPods(): void {
    const names = new Set(this.rehearsal.podNames());
    for (const [name, mirrored] of this.#mirrored) {
      if (names.has(name) && this.rehearsal.podUid(name) === mirrored.rehearsalUid) continue;
      // Gone from the rehearsal, or made again there under the same name: the old pod goes.
      this.#mirrored.delete(name);
      this.#deleteOwn(name);
    }
    for (const name of names) {
      if (this.#killing.has(name)) continue;
      const labels = this.rehearsal.podLabels(name);
      const ready = this.rehearsal.isReady(name);
      const mirrored = this.#mirrored.get(name);
      if (mirrored === undefined) {
        const plan = this.rehearsal.podPlan(name);
        // A Job's pod (the helm test hook) is none of the API's clients' business here.
        if (plan.owner.kind === 'Job') continue;
        this.#mirrored.set(name, { rehearsalUid: this.rehearsal.podUid(name), labels, ready });
        this.store.create(PODS, this.namespace, this.#podObject(name, plan, labels, ready));
        continue;
      }
      if (!isDeepStrictEqual(labels, mirrored.labels)) {
        const change = labelChange(mirrored.labels, labels);
        mirrored.labels = labels;
        this.store.patch(PODS, this.namespace, name, undefined, MERGE_PATCH, {
          metadata: { labels: change },
        });
      }
      if (ready !== mirrored.ready) {
        mirrored.ready = ready;
        this.store.patch(PODS, this.namespace, name, 'status', MERGE_PATCH, {
          status: { conditions: readiness(ready) },
        });
      }
    }
  }

  #deleteOwn(name: string): void {
    if (this.store.list(PODS, this.namespace, (meta) => meta.name === name).length === 0) return;
    this.#deleting.add(name);
    try {
      this.store.delete(PODS, this.namespace, name);
    } finally {
      this.#deleting.delete(name);
    }
  }

  #podObject(
    name: string,
    plan: PodPlan,
    labels: Readonly<Record<string, string>>,
    ready: boolean,
  ): KubeObject {
    const owner = this.owners.get(plan.owner.name);
    const ip = this.rehearsal.podIp(name);
    return {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        labels: { ...labels },
        ...(owner && { ownerReferences: [owner] }),
      },
      spec: { ...structuredClone(plan.spec), nodeName: this.rehearsal.nodeName },
      status: {
        phase: 'Running',
        podIP: ip,
        podIPs: [{ ip }],
        hostIP: this.rehearsal.nodeAddress,
        conditions: readiness(ready),
      },
    } as unknown as KubeObject;
  }

  /** A client's change to a pod, carried to the rehearsal; the bridge's own are already there. */
  #onPod(event: WatchEvent): void {
    const name = event.object.metadata.name;
    const mirrored = this.#mirrored.get(name);
    if (mirrored === undefined) return;
    if (event.type === 'DELETED') {
      if (this.#deleting.has(name)) return;
      this.#mirrored.delete(name);
      this.#killing.add(name);
      const kill = async () => {
        try {
          const plan = await this.rehearsal.deletePod(name, 0);
          await this.rehearsal.recreatePod(plan);
        } finally {
          this.#killing.delete(name);
        }
      };
      this.#kills = this.#kills.then(kill).catch((error: unknown) => {
        this.errors.push(String(error));
      });
      return;
    }
    const labels = event.object.metadata.labels ?? {};
    if (event.type !== 'MODIFIED' || isDeepStrictEqual(labels, mirrored.labels)) return;
    const change = labelChange(mirrored.labels, labels);
    mirrored.labels = labels;
    this.#carry(() => this.rehearsal.labelPods(new Map([[name, change]])));
  }

  #onPolicy(event: WatchEvent): void {
    const policy = event.object as unknown as RenderedObject;
    this.#carry(() =>
      event.type === 'DELETED'
        ? this.rehearsal.removePolicies([policy.metadata.name])
        : this.rehearsal.addPolicies([policy]),
    );
  }
}

function ownerOf(object: KubeObject): OwnerReference {
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    name: object.metadata.name,
    uid: object.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** A merge patch's labels from `before` to `after`: null removes a label. */
function labelChange(
  before: Readonly<Record<string, string>>,
  after: Readonly<Record<string, string>>,
): Record<string, string | null> {
  return {
    ...Object.fromEntries(
      Object.keys(before)
        .filter((key) => !(key in after))
        .map((key) => [key, null]),
    ),
    ...Object.fromEntries(Object.entries(after).filter(([key, value]) => before[key] !== value)),
  };
}

function readiness(ready: boolean): { type: string; status: 'True' | 'False' }[] {
  const status = ready ? 'True' : 'False';
  return [
    { type: 'Ready', status },
    { type: 'ContainersReady', status },
  ];
}
