import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { ApiError } from './status.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: unknown;
  status?: unknown;
  [field: string]: unknown;
}

/** The metadata fields the server sets, whatever the client sent. */
interface OwnedMeta {
  name: string;
  namespace: string;
  uid: string;
  creationTimestamp: string;
  generation: number;
}

export interface ObjectMeta extends OwnedMeta {
  resourceVersion: string;
  [field: string]: unknown;
}

/** What a client sends: the server owns uid, resourceVersion, creationTimestamp and generation. */
export interface ObjectInput {
  metadata?: { name?: unknown; resourceVersion?: unknown; [field: string]: unknown };
  [field: string]: unknown;
}

/**
 * Every object of every kind, stamped from one counter: Kubernetes resourceVersions come from a
 * single etcd revision, so a later write anywhere carries a larger version
 * (API Concepts: "Resource versions", https://kubernetes.io/docs/reference/using-api/api-concepts/).
 */
export class ObjectStore {
  private revision = 0;
  private readonly objects = new Map<string, KubeObject>();

  get resourceVersion(): string {
    return String(this.revision);
  }

  create(type: ResourceType, namespace: string, input: ObjectInput): KubeObject {
    const name = nameOf(input);
    const key = keyOf(type, namespace, name);
    if (this.objects.has(key)) {
      throw new ApiError(
        'AlreadyExists',
        `${type.plural} "${name}" already exists`,
        detailsOf(type, name),
      );
    }
    const object = this.stamp(type, input, {
      name,
      namespace,
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
      generation: 1,
    });
    this.objects.set(key, object);
    return structuredClone(object);
  }

  get(type: ResourceType, namespace: string, name: string): KubeObject {
    return structuredClone(this.existing(type, namespace, name));
  }

  list(type: ResourceType, namespace: string): KubeObject[] {
    const prefix = keyOf(type, namespace, '');
    return [...this.objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .map(([, object]) => structuredClone(object));
  }

  /** PUT: optimistic concurrency on metadata.resourceVersion when the client sends one. */
  replace(type: ResourceType, namespace: string, name: string, input: ObjectInput): KubeObject {
    const current = this.existing(type, namespace, name);
    this.checkVersion(type, current, input);
    // With a status subresource the main endpoint cannot change status, and only spec changes
    // bump generation (CustomResourceDefinitions: "Status subresource",
    // https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#status-subresource).
    const body = type.statusSubresource ? { ...input, status: current.status } : input;
    const specChanged = !isDeepStrictEqual(body.spec, current.spec);
    const object = this.stamp(type, body, {
      name,
      namespace,
      uid: current.metadata.uid,
      creationTimestamp: current.metadata.creationTimestamp,
      generation: current.metadata.generation + (specChanged ? 1 : 0),
    });
    this.objects.set(keyOf(type, namespace, name), object);
    return structuredClone(object);
  }

  /** PUT to /status: only status changes, so generation stays. */
  replaceStatus(
    type: ResourceType,
    namespace: string,
    name: string,
    input: ObjectInput,
  ): KubeObject {
    const current = this.existing(type, namespace, name);
    this.checkVersion(type, current, input);
    const object = this.stamp(type, { ...current, status: input['status'] }, current.metadata);
    this.objects.set(keyOf(type, namespace, name), object);
    return structuredClone(object);
  }

  delete(type: ResourceType, namespace: string, name: string): KubeObject {
    const object = this.existing(type, namespace, name);
    this.objects.delete(keyOf(type, namespace, name));
    this.revision += 1;
    return { ...object, metadata: { ...object.metadata, resourceVersion: this.resourceVersion } };
  }

  private checkVersion(type: ResourceType, current: KubeObject, input: ObjectInput): void {
    const sent = input.metadata?.resourceVersion;
    if (sent !== undefined && sent !== current.metadata.resourceVersion) {
      const name = current.metadata.name;
      throw new ApiError(
        'Conflict',
        `Operation cannot be fulfilled on ${type.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
        detailsOf(type, name),
      );
    }
  }

  private existing(type: ResourceType, namespace: string, name: string): KubeObject {
    const object = this.objects.get(keyOf(type, namespace, name));
    if (object === undefined) {
      throw new ApiError('NotFound', `${type.plural} "${name}" not found`, detailsOf(type, name));
    }
    return object;
  }

  private stamp(type: ResourceType, input: ObjectInput, owned: OwnedMeta): KubeObject {
    this.revision += 1;
    return {
      ...structuredClone(input),
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: {
        ...structuredClone(input.metadata ?? {}),
        ...owned,
        resourceVersion: this.resourceVersion,
      },
    };
  }
}

function nameOf(input: ObjectInput): string {
  const name = input.metadata?.name;
  if (typeof name !== 'string' || name === '') {
    throw new ApiError('BadRequest', 'metadata.name: Required value: name is required');
  }
  return name;
}

function keyOf(type: ResourceType, namespace: string, name: string): string {
  return `${type.group}/${type.plural}/${namespace}/${name}`;
}

function detailsOf(
  type: ResourceType,
  name: string,
): { name: string; group: string; kind: string } {
  return { name, group: type.group, kind: type.plural };
}
