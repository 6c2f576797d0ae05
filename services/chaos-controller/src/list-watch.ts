import { abortableSleep } from '@catmesh/chaos';
import type { KubernetesObject, Watch } from '@kubernetes/client-node';

// The controller's informer. client-node's own never asks for bookmarks and stops for good on any
// error but 410, so this one lists, watches from the list's resourceVersion with bookmarks (which
// keep the version fresh on a quiet watch, so a reconnect rarely needs a re-list), lists again on
// 410 Gone, and restarts with backoff after anything else (API Concepts: "Efficient detection of
// changes", https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes).

export interface ObjectList<T> {
  readonly items: readonly T[];
  readonly metadata?: { readonly resourceVersion?: string };
}

export interface ListWatchOptions<T extends KubernetesObject> {
  /** The collection's URL path, e.g. /apis/catmesh.dev/v1alpha1/namespaces/catmesh/chaosexperiments. */
  readonly path: string;
  readonly list: () => Promise<ObjectList<T>>;
  readonly watch: Watch;
  /** Called with `namespace/name` whenever that object appears, changes or goes. */
  readonly onChange: (key: string) => void;
  /** Called with each failure before the backoff; the loop goes on. */
  readonly onError?: (error: unknown) => void;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

type WatchEnd = 'ended' | 'expired';

/** What the watch last saw of every object, kept current by `run`. */
export class ListWatch<T extends KubernetesObject> {
  private readonly objects = new Map<string, T>();
  private resourceVersion: string | undefined;
  private synced = false;

  constructor(private readonly options: ListWatchOptions<T>) {}

  /** The object under `namespace/name`, as of the last event. */
  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  keys(): string[] {
    return [...this.objects.keys()];
  }

  /** The version the next watch resumes from (client-go's LastSyncResourceVersion). */
  get lastSyncResourceVersion(): string | undefined {
    return this.resourceVersion;
  }

  /** Whether a list has filled the cache at least once. */
  get hasSynced(): boolean {
    return this.synced;
  }

  /** Lists and watches until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const initial = this.options.initialBackoffMs ?? 500;
    let backoff = initial;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.relist();
        const end = await this.watchOnce(signal);
        if (end === 'expired') this.resourceVersion = undefined;
        backoff = initial;
      } catch (error) {
        if (signal.aborted) return;
        this.options.onError?.(error);
        await abortableSleep(backoff, signal);
        backoff = Math.min(backoff * 2, this.options.maxBackoffMs ?? 30_000);
      }
    }
  }

  private async relist(): Promise<void> {
    const list = await this.options.list();
    const listed = new Map(list.items.map((item) => [keyOf(item), item]));
    const changed = [...this.objects.keys()].filter((key) => !listed.has(key));
    for (const key of changed) this.objects.delete(key);
    for (const [key, item] of listed) {
      if (this.objects.get(key)?.metadata?.resourceVersion !== item.metadata?.resourceVersion) {
        changed.push(key);
      }
      this.objects.set(key, item);
    }
    this.resourceVersion = list.metadata?.resourceVersion ?? '';
    this.synced = true;
    for (const key of changed) this.options.onChange(key);
  }

  private watchOnce(signal: AbortSignal): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve, reject) => {
      let expired = false;
      let failure: Error | undefined;
      const onEvent = (type: string, object: unknown): void => {
        if (type === 'ERROR') {
          const status = object as { code?: number; message?: string };
          if (status.code === 410) expired = true;
          else failure = new Error(`watch of ${this.options.path}: ${status.message ?? 'error'}`);
          return;
        }
        this.apply(type, object as T);
      };
      let abort = (): void => undefined;
      const onAbort = (): void => abort();
      const onDone = (error: unknown): void => {
        signal.removeEventListener('abort', onAbort);
        if (error !== null && error !== undefined && !signal.aborted) reject(asError(error));
        else if (failure !== undefined) reject(failure);
        else resolve(expired ? 'expired' : 'ended');
      };
      signal.addEventListener('abort', onAbort, { once: true });
      const query = { resourceVersion: this.resourceVersion ?? '', allowWatchBookmarks: true };
      this.options.watch.watch(this.options.path, query, onEvent, onDone).then((controller) => {
        abort = () => controller.abort();
        if (signal.aborted) controller.abort();
      }, reject);
    });
  }

  private apply(type: string, object: T): void {
    const version = object.metadata?.resourceVersion;
    if (version !== undefined) this.resourceVersion = version;
    if (type === 'BOOKMARK') return;
    const key = keyOf(object);
    if (type === 'DELETED') this.objects.delete(key);
    else this.objects.set(key, object);
    this.options.onChange(key);
  }
}

export function keyOf(object: KubernetesObject): string {
  return `${object.metadata?.namespace ?? ''}/${object.metadata?.name ?? ''}`;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
