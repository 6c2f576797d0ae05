// The controller's writes about an experiment: its finalizer, its status (through the status
// subresource), its Events and its report ConfigMap. Each is one API call of one verb, which is
// what the chart's Role grants.
import { randomBytes } from 'node:crypto';
import {
  EXPERIMENT_API_VERSION,
  EXPERIMENT_GROUP,
  EXPERIMENT_KIND,
  EXPERIMENT_PLURAL,
  EXPERIMENT_VERSION as VERSION,
  type ExperimentStatus,
} from '@catmesh/chaos';
import type { CoreV1Event } from '@kubernetes/client-node';
import { ownerReferenceOf, type ExperimentResource } from './experiment-resource.js';
import { JSON_PATCH, MERGE_PATCH, statusCodeOf, type KubeApis } from './kube-apis.js';
import type { ObjectList } from './list-watch.js';

/** A ConfigMap holds at most 1 MiB (etcd's object limit); keep room for the metadata. */
const CONFIG_MAP_BUDGET = 1_000_000;

export interface EventNote {
  readonly type: 'Normal' | 'Warning';
  /** CamelCase: `Injected`, `Recovered`, `Finished`. */
  readonly reason: string;
  readonly message: string;
}

export class ExperimentApi {
  constructor(
    private readonly apis: KubeApis,
    readonly namespace: string,
    /** Who writes, for Events' reportingInstance: the pod name. */
    private readonly identity: string,
  ) {}

  /** The collection's path, for the watch. */
  get path(): string {
    return `/apis/${EXPERIMENT_GROUP}/${VERSION}/namespaces/${this.namespace}/${EXPERIMENT_PLURAL}`;
  }

  async list(): Promise<ObjectList<ExperimentResource>> {
    return (await this.apis.custom.listNamespacedCustomObject({
      group: EXPERIMENT_GROUP,
      version: VERSION,
      namespace: this.namespace,
      plural: EXPERIMENT_PLURAL,
    })) as ObjectList<ExperimentResource>;
  }

  /**
   * Sets the finalizers to `next` only if they are still what the resource showed: a JSON patch
   * whose `test` fails (422) rather than overwrite another writer's finalizer.
   */
  async setFinalizers(resource: ExperimentResource, next: readonly string[]): Promise<void> {
    const current = resource.metadata.finalizers;
    const body =
      current === undefined
        ? [{ op: 'add', path: '/metadata/finalizers', value: next }]
        : [
            { op: 'test', path: '/metadata/finalizers', value: current },
            { op: 'replace', path: '/metadata/finalizers', value: next },
          ];
    await this.apis.custom.patchNamespacedCustomObject(
      {
        group: EXPERIMENT_GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural: EXPERIMENT_PLURAL,
        name: resource.metadata.name,
        body,
      },
      JSON_PATCH,
    );
  }

  async writeStatus(name: string, status: ExperimentStatus): Promise<void> {
    await this.apis.custom.patchNamespacedCustomObjectStatus(
      {
        group: EXPERIMENT_GROUP,
        version: VERSION,
        namespace: this.namespace,
        plural: EXPERIMENT_PLURAL,
        name,
        body: { status },
      },
      MERGE_PATCH,
    );
  }

  /** A core/v1 Event on the experiment, which `kubectl describe` lists under it. */
  async recordEvent(resource: ExperimentResource, note: EventNote): Promise<void> {
    const now = new Date();
    const { name, uid } = resource.metadata;
    const body: CoreV1Event = {
      metadata: {
        // The name kube's event recorder uses: the object's, a dot, something unique.
        name: `${name}.${randomBytes(8).toString('hex')}`,
        namespace: this.namespace,
      },
      involvedObject: {
        apiVersion: EXPERIMENT_API_VERSION,
        kind: EXPERIMENT_KIND,
        name,
        namespace: this.namespace,
        uid,
      },
      type: note.type,
      reason: note.reason,
      message: note.message,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      source: { component: 'catmesh-chaos-controller' },
      reportingComponent: 'catmesh.dev/chaos-controller',
      reportingInstance: this.identity,
    };
    await this.apis.core.createNamespacedEvent({ namespace: this.namespace, body });
  }

  /**
   * The report, owned by the experiment (deleting it deletes the report). The HTML is left out,
   * with a note in the result, when both would not fit in one ConfigMap. An existing ConfigMap
   * of the same name is this run's, written before a restart: kept as it is.
   */
  async storeReport(
    resource: ExperimentResource,
    files: Readonly<Record<string, string>>,
  ): Promise<{ readonly name: string; readonly omitted: readonly string[] }> {
    const name = reportConfigMapName(resource.metadata.name);
    const data: Record<string, string> = {};
    const omitted: string[] = [];
    let size = 0;
    // report.json first: it is what `catmesh chaos report --kubernetes` reads.
    for (const [file, text] of Object.entries(files)) {
      const bytes = Buffer.byteLength(text);
      if (size + bytes > CONFIG_MAP_BUDGET) {
        omitted.push(file);
        continue;
      }
      data[file] = text;
      size += bytes;
    }
    try {
      await this.apis.core.createNamespacedConfigMap({
        namespace: this.namespace,
        body: {
          metadata: {
            name,
            labels: { 'chaos.catmesh.dev/experiment': resource.metadata.name.slice(0, 63) },
            ownerReferences: [ownerReferenceOf(resource)],
          },
          data,
        },
      });
    } catch (error) {
      if (statusCodeOf(error) !== 409) throw error;
    }
    return { name, omitted };
  }
}

/** `<experiment>-report`, cut to fit a name (253 characters). */
export function reportConfigMapName(experiment: string): string {
  return `${experiment.slice(0, 253 - '-report'.length)}-report`;
}
