import { ApiError } from './status.js';

// Label and field selectors, as list and watch requests carry them in `labelSelector` and
// `fieldSelector` (Labels and Selectors: "Label selectors",
// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors;
// Field Selectors, https://kubernetes.io/docs/concepts/overview/working-with-objects/field-selectors/).

/**
 * Whether an object satisfies the request's selectors: by its metadata, and for the few
 * kind-specific fields the API indexes (an Event's involvedObject, a Pod's phase), by the object.
 */
export type Selector = (metadata: SelectableMeta, object?: unknown) => boolean;

export interface SelectableMeta {
  readonly name: string;
  /** Absent on a cluster-scoped object. */
  readonly namespace?: string;
  readonly labels?: unknown;
}

type Requirement =
  | { readonly key: string; readonly op: 'in' | 'notin'; readonly values: readonly string[] }
  | { readonly key: string; readonly op: 'exists' | '!exists' };

const KEY = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

/** Both selectors of a request on a kind; an empty or absent one selects everything. */
export function selectorOf(
  labelSelector: string | null,
  fieldSelector: string | null,
  kind?: { readonly group: string; readonly plural: string },
): Selector {
  const labels = parseLabelSelector(labelSelector ?? '');
  const fields = parseFieldSelector(fieldSelector ?? '', kind);
  return (metadata, object) => {
    const own = labelsOf(metadata.labels);
    return labels.every((r) => satisfies(own, r)) && fields.every((f) => f(metadata, object));
  };
}

export function parseLabelSelector(text: string): Requirement[] {
  return splitTerms(text).map((term) => {
    const set = /^(?<key>[^\s!=]+)\s+(?<op>in|notin)\s+\((?<values>[^)]*)\)$/.exec(term)?.groups;
    if (set !== undefined) {
      const values = (set['values'] ?? '').split(',').map((v) => v.trim());
      return { key: checkedKey(set['key'] ?? ''), op: set['op'] as 'in' | 'notin', values };
    }
    const equality = /^(?<key>[^\s!=]+)\s*(?<op>==|=|!=)\s*(?<value>\S*)$/.exec(term)?.groups;
    if (equality !== undefined) {
      const value = checkedValue(equality['value'] ?? '');
      const op = equality['op'] === '!=' ? 'notin' : 'in';
      return { key: checkedKey(equality['key'] ?? ''), op, values: [value] };
    }
    if (term.startsWith('!')) return { key: checkedKey(term.slice(1).trim()), op: '!exists' };
    return { key: checkedKey(term), op: 'exists' };
  });
}

// Commas separate terms except inside the parentheses of a set, as in `tier in (a,b),app`.
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += char;
  }
  terms.push(current);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

function checkedKey(key: string): string {
  if (!KEY.test(key))
    throw new ApiError('BadRequest', `unable to parse requirement: invalid label key "${key}"`);
  return key;
}

function checkedValue(value: string): string {
  if (!VALUE.test(value) || value.length > 63) {
    throw new ApiError(
      'BadRequest',
      `unable to parse requirement: invalid label value: "${value}"`,
    );
  }
  return value;
}

function labelsOf(labels: unknown): Record<string, string> {
  return typeof labels === 'object' && labels !== null ? (labels as Record<string, string>) : {};
}

function satisfies(labels: Record<string, string>, requirement: Requirement): boolean {
  const has = Object.hasOwn(labels, requirement.key);
  switch (requirement.op) {
    case 'exists':
      return has;
    case '!exists':
      return !has;
    case 'in':
      return has && requirement.values.includes(labels[requirement.key] ?? '');
    case 'notin':
      return !has || !requirement.values.includes(labels[requirement.key] ?? '');
  }
}

// Every resource supports metadata.name and metadata.namespace; a few kinds index more (the
// fields kube-apiserver registers for them: `kubectl describe` finds an object's Events by
// involvedObject.*), and any other field is refused, as kube-apiserver refuses one it does not
// index.
const KIND_FIELDS: Readonly<Record<string, readonly string[]>> = {
  '/events': [
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ],
  '/pods': [
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'status.phase',
    'status.podIP',
    'status.nominatedNodeName',
  ],
};

function fieldValue(metadata: SelectableMeta, object: unknown, field: string): string {
  if (field === 'metadata.name') return metadata.name;
  if (field === 'metadata.namespace') return metadata.namespace ?? '';
  // An Event's `source` field is its source's component.
  const path = field === 'source' ? ['source', 'component'] : field.split('.');
  let value: unknown = object;
  for (const part of path) value = (value as Record<string, unknown> | undefined)?.[part];
  // The indexed fields are strings and booleans (spec.hostNetwork); anything else matches nothing.
  if (typeof value === 'string') return value;
  return typeof value === 'boolean' || typeof value === 'number' ? String(value) : '';
}

function parseFieldSelector(
  text: string,
  kind?: { readonly group: string; readonly plural: string },
): ((metadata: SelectableMeta, object?: unknown) => boolean)[] {
  const indexed = kind === undefined ? [] : (KIND_FIELDS[`${kind.group}/${kind.plural}`] ?? []);
  return splitTerms(text).map((term) => {
    const match = /^(?<field>[^=!]+?)\s*(?<op>==|=|!=)\s*(?<value>.*)$/.exec(term)?.groups;
    if (match === undefined) {
      throw new ApiError('BadRequest', `invalid selector: '${text}'; can't understand '${term}'`);
    }
    const field = match['field'] ?? '';
    if (field !== 'metadata.name' && field !== 'metadata.namespace' && !indexed.includes(field)) {
      throw new ApiError('BadRequest', `field label not supported: ${field}`);
    }
    const value = match['value'] ?? '';
    return match['op'] === '!='
      ? (metadata, object) => fieldValue(metadata, object, field) !== value
      : (metadata, object) => fieldValue(metadata, object, field) === value;
  });
}
