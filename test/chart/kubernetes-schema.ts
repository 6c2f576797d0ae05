// Validates rendered objects against the Kubernetes 1.33 OpenAPI schema that kubernetes-models
// 4.5.x compiles into ajv validators. Those validators accept fields the schema does not know;
// here they are errors, found by watching which fields a validator reads: every property the
// schema declares is looked up by the compiled code, and a map (labels, annotations, data) is
// enumerated as a whole. A field the validator never touched is one the schema does not have.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import type { RenderedObject } from './helm-chart.js';

interface SchemaError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: unknown;
}

interface CompiledValidator {
  (data: unknown): boolean;
  errors?: readonly SchemaError[] | null;
}

const require = createRequire(import.meta.url);
// The package exports its model classes only; the compiled schemas sit beside them.
const SCHEMAS_DIR = `${dirname(require.resolve('kubernetes-models'))}/_schemas`;

/** `apps/v1` + `StatefulSet` → the schema's definition name, IoK8sApiAppsV1StatefulSet. */
function definitionName(apiVersion: string, kind: string): string {
  // CRDs are served by the apiextensions-apiserver, whose types live in their own Go module.
  if (apiVersion === 'apiextensions.k8s.io/v1') {
    return `IoK8sApiextensionsApiserverPkgApisApiextensionsV1${kind}`;
  }
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['core', apiVersion];
  // A group's Go package is its first label: networking.k8s.io is networking,
  // rbac.authorization.k8s.io is rbac.
  const firstLabel = (group ?? '').split('.')[0] ?? '';
  const groupPart = firstLabel.charAt(0).toUpperCase() + firstLabel.slice(1);
  const versionPart = (version ?? '').charAt(0).toUpperCase() + (version ?? '').slice(1);
  return `IoK8sApi${groupPart}${versionPart}${kind}`;
}

function validatorFor(object: RenderedObject): CompiledValidator {
  const name = definitionName(object.apiVersion, object.kind);
  try {
    return (require(`${SCHEMAS_DIR}/${name}.js`) as { validate: CompiledValidator }).validate;
  } catch {
    throw new Error(`${object.kind} ${object.metadata.name}: no ${object.apiVersion} schema`);
  }
}

/** Wraps `value` so that every field read and every enumeration is recorded by path. */
function watched(
  value: unknown,
  path: string,
  read: Map<string, Set<string>>,
  open: Set<string>,
): unknown {
  if (value === null || typeof value !== 'object') return value;
  return new Proxy(value, {
    get(target, key, receiver) {
      const child: unknown = Reflect.get(target, key, receiver);
      if (typeof key !== 'string') return child;
      if (!read.has(path)) read.set(path, new Set());
      read.get(path)!.add(key);
      return Array.isArray(target) && key === 'length'
        ? child
        : watched(child, `${path}/${key}`, read, open);
    },
    has(target, key) {
      if (typeof key === 'string') {
        if (!read.has(path)) read.set(path, new Set());
        read.get(path)!.add(key);
      }
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      open.add(path);
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(
  value: unknown,
  path: string,
  read: Map<string, Set<string>>,
  open: Set<string>,
): string[] {
  if (value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  const isMap = Array.isArray(value) || open.has(path);
  for (const [key, child] of Object.entries(value)) {
    if (!isMap && !read.get(path)?.has(key)) found.push(`${path}/${key}`);
    else found.push(...unknownFields(child, `${path}/${key}`, read, open));
  }
  return found;
}

/** What is wrong with `object` by the 1.33 schema: one line per error; none when it is valid. */
export function schemaErrors(object: RenderedObject): string[] {
  const validate = validatorFor(object);
  const read = new Map<string, Set<string>>();
  const open = new Set<string>();
  const label = `${object.kind} ${object.metadata.name}`;
  if (!validate(watched(object, '', read, open))) {
    return (validate.errors ?? []).map(
      (error) =>
        `${label}: ${error.instancePath || '/'} fails ${error.keyword} ${JSON.stringify(error.params)}`,
    );
  }
  return unknownFields(object, '', read, open).map((field) => `${label}: unknown field ${field}`);
}
