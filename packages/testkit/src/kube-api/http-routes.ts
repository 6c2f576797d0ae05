import type { ResourceType } from './resource-types.js';

/** A parsed request path; `subresource` is only ever 'status', the one this server serves. */
export type Route =
  | {
      readonly target: 'collection';
      readonly type: ResourceType;
      /** undefined for the every-namespace collection, as `kubectl get -A` lists. */
      readonly namespace: string | undefined;
    }
  | {
      readonly target: 'object';
      readonly type: ResourceType;
      readonly namespace: string;
      readonly name: string;
      readonly subresource?: 'status';
    };

// /api/v1/[namespaces/NS/]PLURAL[/NAME[/status]] and /apis/GROUP/VERSION/[namespaces/NS/]PLURAL[...]
// (API Concepts: "Resource URIs", https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris).
const PATH =
  /^\/(?:api|apis\/(?<group>[^/]+))\/(?<version>[^/]+)\/(?:namespaces\/(?<namespace>[^/]+)\/)?(?<rest>[^/].*)$/;

export function routeOf(pathname: string, types: readonly ResourceType[]): Route | undefined {
  const groups = PATH.exec(pathname)?.groups;
  if (groups === undefined) return undefined;
  const { group = '', version, namespace, rest = '' } = groups;
  const [plural, name, subresource, ...extra] = rest.split('/').map(decodeURIComponent);
  const type = types.find((t) => t.group === group && t.version === version && t.plural === plural);
  if (type === undefined || extra.length > 0) return undefined;
  if (name === undefined) return { target: 'collection', type, namespace };
  // Every served kind is namespaced: an object outside a namespace does not exist.
  if (namespace === undefined) return undefined;
  if (subresource === undefined) return { target: 'object', type, namespace, name };
  if (subresource === 'status' && type.statusSubresource) {
    return { target: 'object', type, namespace, name, subresource };
  }
  return undefined;
}
