import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { applyPatch } from './patches.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';
import type { Selector } from './selectors.js';
import { ApiError, type StatusCause } from './status.js';

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
  /** Absent on a cluster-scoped object. */
  namespace?: string;
  uid: string;
  creationTimestamp: string;
  generation: number;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
}

export interface ObjectMeta extends OwnedMeta {
  resourceVersion: string;
  finalizers?: string[];
  ownerReferences?: OwnerReference[];
  labels?: Record<string, string>;
  [field: string]: unknown;
}

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

/** What a client sends: the server owns uid, resourceVersion, timestamps and generation. */
export interface ObjectInput {
  metadata?: { name?: unknown; resourceVersion?: unknown; [field: string]: unknown };
  [field: string]: unknown;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: KubeObject;
}

export interface WatchRequest {
  readonly type: ResourceType;
  /** undefined watches every namespace. */
  readonly namespace: string | undefined;
  /** A resourceVersion to replay from; undefined or '0' starts with the current state as ADDED. */
  readonly resourceVersion: string | undefined;
  readonly selector: Selector;
  readonly onEvent: (event: WatchEvent) => void;
}

/** How a write treats fields its kind does not declare: the `fieldValidation` query parameter. */
export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** One client write's options in, and the warnings it earned out (sent as Warning headers). */
export interface WriteContext {
  readonly fieldValidation: FieldValidation;
  readonly warnings: string[];
}

/**
 * Called with every object about to be written by a client (not by the server's own deletion
 * bookkeeping); returns the object to store (pruned) or throws the ApiError to answer.
 */
export type Admission = (
  type: ResourceType,
  object: KubeObject,
  context: WriteContext,
) => KubeObject;

// kube-apiserver's default when a request names no fieldValidation.
const defaultWrite = (): WriteContext => ({ fieldValidation: 'Warn', warnings: [] });

interface Change {
  readonly revision: number;
  readonly key: string;
  readonly type: WatchEventType;
  readonly object: KubeObject;
  /** For MODIFIED: the object before, so a selector can tell entering from leaving. */
  readonly previous?: KubeObject;
}

interface Watcher {
  readonly request: WatchRequest;
  readonly prefix: string;
}

// A DNS-1123 subdomain, the rule for the names of most kinds (Object Names and IDs: "Names",
// https://kubernetes.io/docs/concepts/overview/working-with-objects/names/).
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Every object of every kind, stamped from one counter: Kubernetes resourceVersions come from a
 * single etcd revision, so a later write anywhere carries a larger version
 * (API Concepts: "Resource versions", https://kubernetes.io/docs/reference/using-api/api-concepts/).
 * Every write is also kept as a change, so a watch can resume from any version not yet compacted.
 */
export class ObjectStore {
  private revision = 0;
  private compactedRevision = 0;
  private readonly objects = new Map<string, KubeObject>();
  /** The type each stored key belongs to, for the writes garbage collection makes. */
  private readonly types = new Map<string, ResourceType>();
  private changes: Change[] = [];
  private readonly watchers = new Set<Watcher>();

  constructor(private readonly admit: Admission = (_, object) => object) {}

  get resourceVersion(): string {
    return String(this.revision);
  }

  /** `namespace` is '' for a cluster-scoped kind. */
  create(
    type: ResourceType,
    namespace: string,
    input: ObjectInput,
    context: WriteContext = defaultWrite(),
  ): KubeObject {
    const name = nameOf(type, input);
    const key = keyOf(type, namespace, name);
    if (this.objects.has(key)) {
      throw new ApiError(
        'AlreadyExists',
        `${type.plural} "${name}" already exists`,
        detailsOf(type, name),
      );
    }
    // A namespace sent for a cluster-scoped object is dropped, as kube-apiserver drops it.
    const {
      deletionTimestamp: _,
      deletionGracePeriodSeconds: __,
      namespace: ___,
      ...metadata
    } = input.metadata ?? {};
    const object = this.admit(
      type,
      {
        ...structuredClone(input),
        apiVersion: apiVersionOf(type),
        kind: type.kind,
        metadata: {
          ...structuredClone(metadata),
          name,
          ...(namespace === '' ? {} : { namespace }),
          uid: randomUUID(),
          creationTimestamp: now(),
          generation: 1,
          resourceVersion: '',
        },
      },
      context,
    );
    return this.commit(type, key, object, undefined);
  }

  get(type: ResourceType, namespace: string, name: string): KubeObject {
    return structuredClone(this.existing(type, namespace, name));
  }

  /** undefined lists every namespace. */
  list(type: ResourceType, namespace: string | undefined, selector: Selector): KubeObject[] {
    const prefix = prefixOf(type, namespace);
    return [...this.objects.entries()]
      .filter(([key, object]) => key.startsWith(prefix) && selector(object.metadata, object))
      .map(([, object]) => structuredClone(object));
  }

  /** PUT: optimistic concurrency on metadata.resourceVersion when the client sends one. */
  replace(
    type: ResourceType,
    namespace: string,
    name: string,
    input: ObjectInput,
    context: WriteContext = defaultWrite(),
  ): KubeObject {
    const current = this.existing(type, namespace, name);
    checkVersion(type, current, input);
    // With a status subresource the main endpoint cannot change status, and only spec changes
    // bump generation (CustomResourceDefinitions: "Status subresource",
    // https://kubernetes.io/docs/tasks/extend-kubernetes/custom-resources/custom-resource-definitions/#status-subresource).
    const body = type.statusSubresource ? withStatus(input, current.status) : input;
    const specChanged = !isDeepStrictEqual(body['spec'], current.spec);
    const next = this.admit(
      type,
      {
        ...structuredClone(body),
        apiVersion: current.apiVersion,
        kind: current.kind,
        metadata: {
          ...structuredClone(body.metadata ?? {}),
          ...ownedOf(current.metadata),
          generation: current.metadata.generation + (specChanged ? 1 : 0),
          resourceVersion: current.metadata.resourceVersion,
        },
      },
      context,
    );
    checkFinalizers(type, current, next);
    return this.commit(type, keyOf(type, namespace, name), next, current);
  }

  /** PUT to /status: only status changes, so generation stays. */
  replaceStatus(
    type: ResourceType,
    namespace: string,
    name: string,
    input: ObjectInput,
    context: WriteContext = defaultWrite(),
  ): KubeObject {
    const current = this.existing(type, namespace, name);
    checkVersion(type, current, input);
    const next = this.admit(type, withStatus(structuredClone(current), input['status']), context);
    return this.commit(type, keyOf(type, namespace, name), next, current);
  }

  /** PATCH: the patch applies to the stored object, then writes as PUT would. */
  patch(
    type: ResourceType,
    namespace: string,
    name: string,
    subresource: 'status' | undefined,
    contentType: string,
    patch: unknown,
    context: WriteContext = defaultWrite(),
  ): KubeObject {
    const current = this.get(type, namespace, name);
    const patched = applyPatch(contentType, current, patch);
    if (typeof patched !== 'object' || patched === null || Array.isArray(patched)) {
      throw new ApiError('BadRequest', 'the patched object is not a JSON object');
    }
    const input = patched as ObjectInput;
    return subresource === 'status'
      ? this.replaceStatus(type, namespace, name, input, context)
      : this.replace(type, namespace, name, input, context);
  }

  /**
   * DELETE: an object with finalizers only gets a deletionTimestamp and stays until its last
   * finalizer is removed (Finalizers, https://kubernetes.io/docs/concepts/overview/working-with-objects/finalizers/).
   */
  delete(type: ResourceType, namespace: string, name: string): KubeObject {
    const current = this.existing(type, namespace, name);
    if ((current.metadata.finalizers ?? []).length === 0) {
      return this.remove(type, keyOf(type, namespace, name), current);
    }
    if (current.metadata.deletionTimestamp !== undefined) return structuredClone(current);
    const next = structuredClone(current);
    next.metadata.deletionTimestamp = now();
    next.metadata.deletionGracePeriodSeconds = 0;
    return this.commit(type, keyOf(type, namespace, name), next, current);
  }

  /**
   * Streams changes to `request.onEvent` until the returned function is called. A version older
   * than the last compaction is 410 Expired (API Concepts: "Efficient detection of changes",
   * https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).
   */
  watch(request: WatchRequest): () => void {
    const watcher = { request, prefix: prefixOf(request.type, request.namespace) };
    const from = request.resourceVersion;
    if (from === undefined || from === '0') {
      for (const object of this.list(request.type, request.namespace, request.selector)) {
        request.onEvent({ type: 'ADDED', object });
      }
    } else {
      const revision = parseVersion(from);
      if (revision < this.compactedRevision) {
        throw new ApiError(
          'Expired',
          `too old resource version: ${from} (${this.compactedRevision})`,
        );
      }
      for (const change of this.changes) {
        if (change.revision > revision) deliver(watcher, change);
      }
    }
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  /** Forgets the change history, as etcd compaction does: older watches get 410 Expired. */
  compact(): void {
    this.compactedRevision = this.revision;
    this.changes = [];
  }

  private existing(type: ResourceType, namespace: string, name: string): KubeObject {
    const object = this.objects.get(keyOf(type, namespace, name));
    if (object === undefined) {
      throw new ApiError('NotFound', `${type.plural} "${name}" not found`, detailsOf(type, name));
    }
    return object;
  }

  /**
   * Stores `next` under a new version, or removes it when a deletion's last finalizer is gone.
   * An update that changes nothing is not a write: same version, no event, as kube-apiserver does.
   */
  private commit(
    type: ResourceType,
    key: string,
    next: KubeObject,
    current: KubeObject | undefined,
  ): KubeObject {
    if (current !== undefined && isDeepStrictEqual(next, current)) return structuredClone(current);
    if (
      current !== undefined &&
      next.metadata.deletionTimestamp !== undefined &&
      (next.metadata.finalizers ?? []).length === 0
    ) {
      return this.remove(type, key, next);
    }
    this.revision += 1;
    const stored: KubeObject = {
      ...next,
      metadata: { ...next.metadata, resourceVersion: this.resourceVersion },
    };
    this.objects.set(key, stored);
    this.types.set(key, type);
    this.record({
      revision: this.revision,
      key,
      type: current === undefined ? 'ADDED' : 'MODIFIED',
      object: stored,
      ...(current === undefined ? {} : { previous: current }),
    });
    return structuredClone(stored);
  }

  private remove(type: ResourceType, key: string, last: KubeObject): KubeObject {
    this.objects.delete(key);
    this.types.delete(key);
    this.revision += 1;
    const gone: KubeObject = {
      ...last,
      metadata: { ...last.metadata, resourceVersion: this.resourceVersion },
    };
    this.record({ revision: this.revision, key, type: 'DELETED', object: gone });
    this.collectDependents(gone.metadata.uid);
    return structuredClone(gone);
  }

  /**
   * Garbage collection in the background mode, the default for API deletes: a dependent whose
   * owners are all gone is deleted; one that keeps a live owner loses only the dangling reference
   * (Garbage Collection: "Owners and dependents",
   * https://kubernetes.io/docs/concepts/architecture/garbage-collection/#owners-dependents).
   */
  private collectDependents(uid: string): void {
    const live = new Set([...this.objects.values()].map((object) => object.metadata.uid));
    for (const [key, object] of [...this.objects.entries()]) {
      const owners = object.metadata.ownerReferences ?? [];
      // A cascade may already have collected this one.
      if (this.objects.get(key) !== object || !owners.some((owner) => owner.uid === uid)) continue;
      const type = this.types.get(key);
      if (type === undefined) continue;
      const remaining = owners.filter((owner) => live.has(owner.uid));
      if (remaining.length > 0) {
        const next = structuredClone(object);
        next.metadata.ownerReferences = remaining;
        this.commit(type, key, next, object);
      } else {
        this.delete(type, object.metadata.namespace ?? '', object.metadata.name);
      }
    }
  }

  private record(change: Change): void {
    this.changes.push(change);
    for (const watcher of this.watchers) deliver(watcher, change);
  }
}

/**
 * Sends a change to a watcher as the watcher sees it: a selector turns a modification that makes
 * an object match into ADDED and one that makes it stop matching into DELETED, as watch caches do.
 */
function deliver(watcher: Watcher, change: Change): void {
  if (!change.key.startsWith(watcher.prefix)) return;
  const { selector, onEvent } = watcher.request;
  const matches = selector(change.object.metadata, change.object);
  const object = structuredClone(change.object);
  if (change.type !== 'MODIFIED' || change.previous === undefined) {
    if (matches) onEvent({ type: change.type, object });
    return;
  }
  const matched = selector(change.previous.metadata, change.previous);
  if (matched && matches) onEvent({ type: 'MODIFIED', object });
  else if (matches) onEvent({ type: 'ADDED', object });
  else if (matched) onEvent({ type: 'DELETED', object });
}

// An absent status stays absent: a key holding undefined would make a no-op update look like a write.
function withStatus<T extends ObjectInput>(object: T, status: unknown): T {
  const { status: _, ...rest } = object;
  return (status === undefined ? rest : { ...rest, status }) as T;
}

function checkVersion(type: ResourceType, current: KubeObject, input: ObjectInput): void {
  const sent = input.metadata?.resourceVersion;
  if (sent !== undefined && sent !== '' && sent !== current.metadata.resourceVersion) {
    const name = current.metadata.name;
    throw new ApiError(
      'Conflict',
      `Operation cannot be fulfilled on ${type.plural} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
      detailsOf(type, name),
    );
  }
}

// Finalizers: "Owner references, labels, and finalizers" — an object being deleted takes no new
// finalizers.
function checkFinalizers(type: ResourceType, current: KubeObject, next: KubeObject): void {
  if (current.metadata.deletionTimestamp === undefined) return;
  const before = new Set(current.metadata.finalizers ?? []);
  const added = (next.metadata.finalizers ?? []).filter((f) => !before.has(f));
  if (added.length > 0) {
    invalid(type, current.metadata.name, {
      reason: 'FieldValueForbidden',
      field: 'metadata.finalizers',
      message: 'Forbidden: no new finalizers can be added if the object is being deleted',
    });
  }
}

function ownedOf(metadata: ObjectMeta): OwnedMeta {
  const { name, namespace, uid, creationTimestamp, generation } = metadata;
  return {
    name,
    ...(namespace === undefined ? {} : { namespace }),
    uid,
    creationTimestamp,
    generation,
    ...(metadata.deletionTimestamp === undefined
      ? {}
      : {
          deletionTimestamp: metadata.deletionTimestamp,
          deletionGracePeriodSeconds: metadata.deletionGracePeriodSeconds ?? 0,
        }),
  };
}

/** metadata.name, or generateName with five random characters as kube-apiserver appends. */
function nameOf(type: ResourceType, input: ObjectInput): string {
  const metadata = input.metadata ?? {};
  const generate = metadata['generateName'];
  const name =
    typeof metadata.name === 'string' && metadata.name !== ''
      ? metadata.name
      : typeof generate === 'string' && generate !== ''
        ? `${generate}${randomBytes(5).toString('hex').slice(0, 5)}`
        : undefined;
  if (name === undefined) {
    throw new ApiError(
      'Invalid',
      `${type.kind} "" is invalid: metadata.name: Required value: name or generateName is required`,
      {
        kind: type.plural,
        group: type.group,
        causes: [
          {
            reason: 'FieldValueRequired',
            message: 'Required value: name or generateName is required',
            field: 'metadata.name',
          },
        ],
      },
    );
  }
  if (name.length > 253 || !SUBDOMAIN.test(name)) {
    invalid(type, name, {
      reason: 'FieldValueInvalid',
      field: 'metadata.name',
      message: `Invalid value: "${name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  return name;
}

function invalid(type: ResourceType, name: string, cause: StatusCause): never {
  const kind = type.group === '' ? type.kind : `${type.kind}.${type.group}`;
  throw new ApiError('Invalid', `${kind} "${name}" is invalid: ${cause.field}: ${cause.message}`, {
    ...detailsOf(type, name),
    causes: [cause],
  });
}

function parseVersion(version: string): number {
  if (!/^\d+$/.test(version)) {
    throw new ApiError('BadRequest', `invalid resource version "${version}"`);
  }
  return Number(version);
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function keyOf(type: ResourceType, namespace: string, name: string): string {
  return `${prefixOf(type, namespace)}${name}`;
}

function prefixOf(type: ResourceType, namespace: string | undefined): string {
  return `${type.group}/${type.plural}/${namespace === undefined ? '' : `${namespace}/`}`;
}

function detailsOf(
  type: ResourceType,
  name: string,
): { name: string; group: string; kind: string } {
  return { name, group: type.group, kind: type.plural };
}
