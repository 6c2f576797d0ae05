import { isDeepStrictEqual } from 'node:util';
import { ApiError } from './status.js';

// The patch types kube-apiserver takes for custom resources (API Concepts: "Patch",
// https://kubernetes.io/docs/tasks/manage-kubernetes-objects/update-api-object-kubectl-patch/).
// Strategic merge needs the Go struct tags of a built-in kind, so custom resources refuse it with
// 415; this server has no struct tags for built-ins either, so it refuses it everywhere and says so.
export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
const ACCEPTED = `${JSON_PATCH}, ${MERGE_PATCH}`;

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** The patched document, or the Status kube-apiserver answers for a patch it cannot apply. */
export function applyPatch(contentType: string, document: unknown, patch: unknown): unknown {
  const mediaType = contentType.split(';')[0]?.trim() ?? '';
  if (mediaType === MERGE_PATCH) return mergePatch(document as Json, patch as Json);
  if (mediaType === JSON_PATCH) return jsonPatch(document as Json, patch);
  throw new ApiError(
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${ACCEPTED}`,
  );
}

/** RFC 7386: objects merge key by key, null deletes, anything else replaces. */
function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return patch;
  const result: { [key: string]: Json } = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key] ?? null, value);
  }
  return result;
}

interface Operation {
  readonly op: string;
  readonly path: string;
  readonly from?: string;
  readonly value?: Json;
}

/** RFC 6902, all or nothing: a failed operation leaves the document untouched (422). */
function jsonPatch(document: Json, patch: unknown): Json {
  if (!Array.isArray(patch))
    throw new ApiError('BadRequest', 'a JSON patch must be an array of operations');
  let result = structuredClone(document);
  for (const [index, operation] of (patch as Operation[]).entries()) {
    result = applyOperation(result, operation, index);
  }
  return result;
}

function applyOperation(document: Json, operation: Operation, index: number): Json {
  const fail = (why: string): never => {
    throw new ApiError(
      'Invalid',
      `the server rejected our request due to an error in our request: operation ${index} (${operation.op} ${operation.path}): ${why}`,
    );
  };
  switch (operation.op) {
    case 'add':
      return put(document, pointer(operation.path, fail), operation.value ?? null, 'add', fail);
    case 'replace':
      return put(document, pointer(operation.path, fail), operation.value ?? null, 'replace', fail);
    case 'remove':
      return remove(document, pointer(operation.path, fail), fail);
    case 'test':
      if (!isDeepStrictEqual(read(document, pointer(operation.path, fail), fail), operation.value))
        fail('testing value failed');
      return document;
    case 'copy': {
      const value = read(document, pointer(operation.from ?? '', fail), fail);
      return put(document, pointer(operation.path, fail), structuredClone(value), 'add', fail);
    }
    case 'move': {
      const from = pointer(operation.from ?? '', fail);
      const value = read(document, from, fail);
      return put(remove(document, from, fail), pointer(operation.path, fail), value, 'add', fail);
    }
    default:
      return fail(`unknown operation "${operation.op}"`);
  }
}

type Fail = (why: string) => never;

/** RFC 6901: '/a/b~1c' is ['a', 'b/c']. */
function pointer(path: string, fail: Fail): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) fail(`"${path}" is not a JSON pointer`);
  return path
    .slice(1)
    .split('/')
    .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function read(document: Json, path: readonly string[], fail: Fail): Json {
  let node = document;
  for (const token of path) {
    const next = childOf(node, token);
    if (next === undefined) return fail(`path "/${path.join('/')}" does not exist`);
    node = next;
  }
  return node;
}

function childOf(node: Json, token: string): Json | undefined {
  if (Array.isArray(node)) return /^(0|[1-9]\d*)$/.test(token) ? node[Number(token)] : undefined;
  if (isObject(node)) return Object.hasOwn(node, token) ? node[token] : undefined;
  return undefined;
}

function put(
  document: Json,
  path: readonly string[],
  value: Json,
  mode: 'add' | 'replace',
  fail: Fail,
): Json {
  if (path.length === 0) return value;
  const parent = read(document, path.slice(0, -1), fail);
  const token = path.at(-1) ?? '';
  if (Array.isArray(parent)) {
    const at = token === '-' ? parent.length : Number(token);
    const limit = mode === 'add' ? parent.length : parent.length - 1;
    if (!/^(0|[1-9]\d*|-)$/.test(token) || at > limit) fail(`index "${token}" is out of range`);
    parent.splice(at, mode === 'add' ? 0 : 1, value);
  } else if (isObject(parent)) {
    if (mode === 'replace' && !Object.hasOwn(parent, token)) fail(`"${token}" does not exist`);
    parent[token] = value;
  } else fail(`the parent of "${token}" is not a container`);
  return document;
}

function remove(document: Json, path: readonly string[], fail: Fail): Json {
  if (path.length === 0) return fail('cannot remove the whole document');
  read(document, path, fail);
  const parent = read(document, path.slice(0, -1), fail);
  const token = path.at(-1) ?? '';
  if (Array.isArray(parent)) parent.splice(Number(token), 1);
  else if (isObject(parent)) delete parent[token];
  return document;
}

function isObject(value: Json | undefined): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
