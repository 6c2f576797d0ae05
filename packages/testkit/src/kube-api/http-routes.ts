import { verbOf, type RequestAttributes } from './rbac.js';
import type { ResourceType } from './resource-types.js';

/** A parsed request path; `subresource` is only ever 'status', the one this server serves. */
export type Route =
  | {
      readonly target: 'collection';
      readonly type: ResourceType;
      /**
       * undefined for the every-namespace collection, as `kubectl get -A` lists; '' for a
       * cluster-scoped kind.
       */
      readonly namespace: string | undefined;
    }
  | {
      readonly target: 'object';
      readonly type: ResourceType;
      /** '' for a cluster-scoped kind. */
      readonly namespace: string;
      readonly name: string;
      readonly subresource?: 'status';
    };

// /api/v1/[namespaces/NS/]PLURAL[/NAME[/status]] and /apis/GROUP/VERSION/[namespaces/NS/]PLURAL[...]
// (API Concepts: "Resource URIs", https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris).
const PATH =
  /^\/(?:api|apis\/(?<group>[^/]+))\/(?<version>[^/]+)\/(?:namespaces\/(?<namespace>[^/]+)\/)?(?<rest>[^/].*)$/;

interface ResourcePath {
  readonly group: string;
  readonly version: string;
  readonly namespace: string | undefined;
  readonly plural: string;
  readonly name: string | undefined;
  readonly subresource: string | undefined;
  readonly extra: readonly string[];
}

function resourcePathOf(pathname: string): ResourcePath | undefined {
  const groups = PATH.exec(pathname)?.groups;
  if (groups === undefined) return undefined;
  const { group = '', version = '', namespace, rest = '' } = groups;
  const [plural = '', name, subresource, ...extra] = rest.split('/').map(decodeURIComponent);
  return { group, version, namespace, plural, name, subresource, extra };
}

export function routeOf(pathname: string, types: readonly ResourceType[]): Route | undefined {
  const path = resourcePathOf(pathname);
  if (path === undefined) return undefined;
  const { group, version, plural, name, subresource, extra } = path;
  const type = types.find((t) => t.group === group && t.version === version && t.plural === plural);
  if (type === undefined || extra.length > 0) return undefined;
  if (type.clusterScoped === true && path.namespace !== undefined) return undefined;
  const namespace = type.clusterScoped === true ? '' : path.namespace;
  if (name === undefined) return { target: 'collection', type, namespace };
  // Every namespaced object lives in a namespace: one outside any does not exist.
  if (namespace === undefined) return undefined;
  if (subresource === undefined) return { target: 'object', type, namespace, name };
  if (subresource === 'status' && type.statusSubresource) {
    return { target: 'object', type, namespace, name, subresource };
  }
  return undefined;
}

/**
 * What a request asks of a resource, read from its method and URL alone, before anything knows
 * whether the resource exists: kube-apiserver authorizes first and answers 404 after, so a
 * caller without rights cannot probe what is served. undefined for a non-resource request
 * (discovery, /openapi, /version, any other path) and for a method no resource verb maps to.
 */
export function requestAttributesOf(method: string, url: URL): RequestAttributes | undefined {
  const path = resourcePathOf(url.pathname);
  if (path === undefined) return undefined;
  const watch = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  const target = path.name === undefined ? 'collection' : 'object';
  const verb = verbOf(method, target, watch && target === 'collection');
  if (verb === undefined) return undefined;
  const name = path.name ?? nameOfFieldSelector(url.searchParams.get('fieldSelector'));
  return {
    verb,
    apiGroup: path.group,
    resource: path.plural,
    namespace: path.namespace ?? '',
    ...(path.subresource === undefined ? {} : { subresource: path.subresource }),
    ...(name === undefined ? {} : { name }),
  };
}

// A list or watch that selects exactly one name is authorized as a request for that name, so a
// rule with resourceNames can allow an informer on one object (kube's RequestInfoFactory).
function nameOfFieldSelector(selector: string | null): string | undefined {
  for (const term of (selector ?? '').split(',')) {
    const match = /^\s*metadata\.name\s*==?\s*(?<name>[^,\s]+)\s*$/.exec(term)?.groups;
    if (match !== undefined) return match['name'];
  }
  return undefined;
}
