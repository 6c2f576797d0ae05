import type { KubeObject } from './object-store.js';
import type { PrinterColumn, ResourceType } from './resource-types.js';

// `kubectl get` asks for a meta.k8s.io/v1 Table and prints its cells, so the columns a user sees
// are the server's (API Concepts: "Receiving resources as Tables",
// https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables).

/** Whether the Accept header asks for a Table first, as kubectl get does. */
export function wantsTable(accept: string | undefined): boolean {
  const first = (accept ?? '').split(',')[0] ?? '';
  return /;\s*as=Table/.test(first) && /;\s*g=meta\.k8s\.io/.test(first);
}

const NAME: PrinterColumn = { name: 'Name', type: 'string', jsonPath: '.metadata.name' };
// A kind without printer columns gets NAME and CREATED AT, as kube-apiserver's default table.
const CREATED_AT: PrinterColumn = {
  name: 'Created At',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
};

export function tableOf(
  type: ResourceType,
  objects: readonly KubeObject[],
  resourceVersion: string,
): object {
  const custom = type.printerColumns;
  const columns = [NAME, ...(custom ?? [CREATED_AT])];
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { resourceVersion },
    columnDefinitions: columns.map((column) => ({
      name: column.name,
      type: column.type,
      format: column === NAME ? 'name' : (column.format ?? ''),
      description: column.description ?? '',
      priority: column.priority ?? 0,
    })),
    rows: objects.map((object) => ({
      cells: columns.map((column) => cellOf(object, column, custom !== undefined)),
      object: {
        kind: 'PartialObjectMetadata',
        apiVersion: 'meta.k8s.io/v1',
        metadata: object.metadata,
      },
    })),
  };
}

// A CRD's date column shows as an age ("5m"), the way the API server's CRD table converter fills
// it; the default table's CREATED AT stays a timestamp.
function cellOf(object: KubeObject, column: PrinterColumn, asAge: boolean): unknown {
  const value = valueAt(object, column.jsonPath);
  if (value === undefined) return null;
  if (column.type === 'date' && asAge && typeof value === 'string') return ageOf(value);
  return value;
}

/** The simple JSONPath printer columns use: `.status.phase`, `.spec.targets[0].count`. */
function valueAt(object: unknown, path: string): unknown {
  const steps = path
    .replace(/^\{?\.?/, '')
    .replace(/\}$/, '')
    .split(/\.|\[(\d+)\]/);
  let node = object;
  for (const step of steps) {
    if (step === undefined || step === '') continue;
    if (typeof node !== 'object' || node === null) return undefined;
    node = (node as Record<string, unknown>)[step];
  }
  return node;
}

function ageOf(timestamp: string): string {
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
