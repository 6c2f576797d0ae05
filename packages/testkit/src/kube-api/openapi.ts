import { createHash } from 'node:crypto';
import type { ResourceType } from './resource-types.js';

// The OpenAPI v3 documents kubectl reads before `kubectl apply`: it sends fieldValidation=Strict
// only to a server whose PATCH operation for the kind lists that parameter, and refuses to apply
// without the documents at all (API Concepts: "Field validation";
// https://kubernetes.io/docs/concepts/overview/kubernetes-api/#openapi-v3).

const WRITE_PARAMETERS = ['dryRun', 'fieldManager', 'fieldValidation'];

/** The document at `pathname` under /openapi/v3, or undefined when there is none. */
export function openApiDocument(
  pathname: string,
  types: readonly ResourceType[],
): object | undefined {
  const versions = groupVersionsOf(types);
  if (pathname === '/openapi/v3') {
    return {
      paths: Object.fromEntries(
        [...versions].map(([path, served]) => [
          path,
          { serverRelativeURL: `/openapi/v3/${path}?hash=${hashOf(served)}` },
        ]),
      ),
    };
  }
  const served = versions.get(pathname.replace(/^\/openapi\/v3\//, ''));
  return served === undefined ? undefined : groupVersionDocument(served);
}

function groupVersionsOf(types: readonly ResourceType[]): Map<string, ResourceType[]> {
  const versions = new Map<string, ResourceType[]>();
  for (const type of types) {
    const path = type.group === '' ? `api/${type.version}` : `apis/${type.group}/${type.version}`;
    versions.set(path, [...(versions.get(path) ?? []), type]);
  }
  return versions;
}

function hashOf(types: readonly ResourceType[]): string {
  return createHash('sha512')
    .update(JSON.stringify(types))
    .digest('hex')
    .slice(0, 128)
    .toUpperCase();
}

function groupVersionDocument(types: readonly ResourceType[]): object {
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.33.0' },
    paths: Object.fromEntries(types.flatMap(pathsOf)),
    components: {
      schemas: Object.fromEntries(
        types.map((type) => [
          schemaName(type),
          {
            ...(type.schema ?? { type: 'object' }),
            'x-kubernetes-group-version-kind': [gvkOf(type)],
          },
        ]),
      ),
    },
  };
}

function pathsOf(type: ResourceType): [string, object][] {
  const scope = type.clusterScoped === true ? '' : 'namespaces/{namespace}/';
  const base = `/${type.group === '' ? 'api' : `apis/${type.group}`}/${type.version}/${scope}${type.plural}`;
  const operation = (verb: string, write: boolean): object => ({
    operationId: `${verb}${type.kind}`,
    'x-kubernetes-action': verb,
    'x-kubernetes-group-version-kind': gvkOf(type),
    parameters: write
      ? WRITE_PARAMETERS.map((name) => ({ name, in: 'query', schema: { type: 'string' } }))
      : [],
    responses: { '200': { description: 'OK' } },
  });
  const item: [string, object] = [
    `${base}/{name}`,
    {
      get: operation('get', false),
      put: operation('put', true),
      patch: operation('patch', true),
      delete: operation('delete', false),
    },
  ];
  const collection: [string, object] = [
    base,
    { get: operation('list', false), post: operation('post', true) },
  ];
  return [collection, item];
}

function gvkOf(type: ResourceType): { group: string; version: string; kind: string } {
  return { group: type.group, version: type.version, kind: type.kind };
}

// kube-apiserver names a CRD's schema by its reversed group, e.g. dev.catmesh.v1alpha1.ChaosExperiment.
function schemaName(type: ResourceType): string {
  const group = type.group === '' ? 'io.k8s.api.core' : type.group.split('.').reverse().join('.');
  return `${group}.${type.version}.${type.kind}`;
}
