import { apiVersionOf, type ResourceType } from './resource-types.js';

// The unaggregated discovery documents kubectl reads to map `kubectl get cx` to a URL (API
// Concepts: "Discovery API", https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api).
// kubectl asks for the aggregated form first and falls back to these when the answer is plain JSON.

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];
const SUBRESOURCE_VERBS = ['get', 'patch', 'update'];

/** The document at `pathname`, or undefined when it is not a discovery path. */
export function discoveryDocument(
  pathname: string,
  types: readonly ResourceType[],
): object | undefined {
  if (pathname === '/version') {
    return { major: '1', minor: '33', gitVersion: 'v1.33.0-catmesh-fake', platform: 'linux/amd64' };
  }
  if (pathname === '/api') return { kind: 'APIVersions', versions: ['v1'] };
  if (pathname === '/apis') {
    return { kind: 'APIGroupList', apiVersion: 'v1', groups: groupsOf(types).map(groupDocument) };
  }
  const group = /^\/apis\/(?<group>[^/]+)$/.exec(pathname)?.groups?.['group'];
  if (group !== undefined) {
    const found = groupsOf(types).find((g) => g.name === group);
    return found === undefined
      ? undefined
      : { kind: 'APIGroup', apiVersion: 'v1', ...groupDocument(found) };
  }
  const groupVersion = /^\/(api|apis\/[^/]+)\/(?<version>[^/]+)$/.exec(pathname);
  if (groupVersion === null) return undefined;
  const served = types.filter(
    (t) => `/${t.group === '' ? 'api' : `apis/${t.group}`}/${t.version}` === pathname,
  );
  if (served.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: apiVersionOf(served[0] as ResourceType),
    resources: served.flatMap(resourceDocuments),
  };
}

interface Group {
  readonly name: string;
  readonly versions: readonly string[];
}

function groupsOf(types: readonly ResourceType[]): Group[] {
  const groups = new Map<string, Set<string>>();
  for (const type of types) {
    if (type.group === '') continue;
    groups.set(type.group, (groups.get(type.group) ?? new Set()).add(type.version));
  }
  return [...groups].map(([name, versions]) => ({ name, versions: [...versions] }));
}

function groupDocument(group: Group): object {
  const versions = group.versions.map((version) => ({
    groupVersion: `${group.name}/${version}`,
    version,
  }));
  return { name: group.name, versions, preferredVersion: versions[0] };
}

function resourceDocuments(type: ResourceType): object[] {
  const main = {
    name: type.plural,
    singularName: type.singular ?? type.kind.toLowerCase(),
    namespaced: type.clusterScoped !== true,
    kind: type.kind,
    verbs: VERBS,
    ...(type.shortNames === undefined ? {} : { shortNames: type.shortNames }),
    ...(type.categories === undefined ? {} : { categories: type.categories }),
  };
  if (!type.statusSubresource) return [main];
  const status = {
    name: `${type.plural}/status`,
    singularName: '',
    namespaced: type.clusterScoped !== true,
    kind: type.kind,
    verbs: SUBRESOURCE_VERBS,
  };
  return [main, status];
}
