// Authentication and authorization in front of the fake's handlers, in kube-apiserver's order:
// who is calling (Authenticating, https://kubernetes.io/docs/reference/access-authn-authz/authentication/),
// then whether RBAC lets them (https://kubernetes.io/docs/reference/access-authn-authz/rbac/), and
// only then whether the resource exists.
import { requestAttributesOf } from './http-routes.js';
import type { Admission, ObjectStore } from './object-store.js';
import {
  Authorizer,
  describeRequest,
  permissionKey,
  permissionOf,
  serviceAccountName,
  sortedPermissions,
  type Permission,
  type RequestAttributes,
  type UserInfo,
} from './rbac.js';
import { builtInType, type ResourceType } from './resource-types.js';
import { ApiError } from './status.js';

const RBAC_GROUP = 'rbac.authorization.k8s.io';
// The group kube-apiserver lets do anything before RBAC is asked; kubeadm's admin is in it.
const MASTERS = 'system:masters';

// The nonResourceURLs of the system:discovery ClusterRole, bound to system:authenticated.
const DISCOVERY = /^\/(?:(?:api|apis|openapi)(?:\/.*)?|healthz|livez|readyz|version\/?)$/;

/** A request the fake refused with 403, as the test reads it back. */
export interface Denial {
  /** The 403 Status message, in kube-apiserver's words. */
  readonly message: string;
  /** What a resource request asked; absent for a path outside the resources (`/metrics`). */
  readonly request?: RequestAttributes;
}

/** The user of a service account, with the groups kube's token authenticator gives it. */
export function serviceAccountUser(namespace: string, name: string): UserInfo {
  return {
    name: serviceAccountName(namespace, name),
    groups: [
      'system:serviceaccounts',
      `system:serviceaccounts:${namespace}`,
      'system:authenticated',
    ],
  };
}

export class AccessControl {
  readonly #users: ReadonlyMap<string, UserInfo>;
  readonly #store: ObjectStore;
  readonly #used = new Map<string, Map<string, Permission>>();
  readonly #denials = new Map<string, Denial[]>();

  constructor(users: Readonly<Record<string, UserInfo>>, store: ObjectStore) {
    this.#users = new Map(Object.entries(users));
    this.#store = store;
  }

  /** Throws the 401 or 403 ApiError that answers a request its caller may not make. */
  check(method: string, authorization: string | undefined, url: URL): void {
    const user = this.#authenticate(authorization);
    const privileged = user.groups.includes(MASTERS);
    const attributes = requestAttributesOf(method, url);
    if (attributes === undefined) {
      if (privileged || (method === 'GET' && DISCOVERY.test(url.pathname))) return;
      const why = `User ${JSON.stringify(user.name)} cannot ${method.toLowerCase()} path ${JSON.stringify(url.pathname)}`;
      this.#deny(user.name, { message: `forbidden: ${why}` });
    }
    const permission = permissionOf(attributes);
    const used = this.#used.get(user.name) ?? new Map<string, Permission>();
    this.#used.set(user.name, used.set(permissionKey(permission), permission));
    if (privileged || this.#authorizer().allows(user, attributes)) return;
    this.#deny(user.name, { message: describeRequest(user.name, attributes), request: attributes });
  }

  permissionsUsed(user: string): Permission[] {
    return sortedPermissions(this.#used.get(user)?.values() ?? []);
  }

  denials(user: string): Denial[] {
    return [...(this.#denials.get(user) ?? [])];
  }

  // A bearer token only, as kube's token authenticator reads it. A request without one gets
  // 401 too: this is an apiserver run with --anonymous-auth=false, so that a client that lost
  // its credentials fails loudly instead of as system:anonymous.
  #authenticate(authorization: string | undefined): Required<UserInfo> {
    const token = /^\s*bearer\s+(?<token>\S+)/i.exec(authorization ?? '')?.groups?.['token'];
    const user = token === undefined ? undefined : this.#users.get(token);
    if (user === undefined) throw new ApiError('Unauthorized', 'Unauthorized');
    // Every authenticated user is in system:authenticated, whatever its token says.
    return {
      name: user.name,
      groups: [...new Set([...(user.groups ?? []), 'system:authenticated'])],
    };
  }

  // Built from the store at each request, so a Role applied through the API counts at once, as
  // kube's RBAC informers make it count within moments.
  #authorizer(): Authorizer {
    const all = (plural: string): unknown[] =>
      this.#store.list(rbacType(plural), undefined, () => true);
    return new Authorizer({
      roles: all('roles'),
      clusterRoles: all('clusterroles'),
      roleBindings: all('rolebindings'),
      clusterRoleBindings: all('clusterrolebindings'),
    });
  }

  #deny(user: string, denial: Denial): never {
    this.#denials.set(user, [...(this.#denials.get(user) ?? []), denial]);
    const { request } = denial;
    // apimachinery's NewForbidden; Go's omitempty leaves out an empty name or group.
    const details =
      request === undefined
        ? {}
        : {
            ...(request.name === undefined || request.name === '' ? {} : { name: request.name }),
            ...(request.apiGroup === '' ? {} : { group: request.apiGroup }),
            kind: request.resource,
          };
    throw new ApiError('Forbidden', denial.message, details);
  }
}

/**
 * Refuses with 422 an RBAC object the Authorizer could not read, as kube-apiserver's validation
 * refuses it, so that one bad Role cannot stop every later request from being authorized.
 */
export function rbacAdmission(next: Admission): Admission {
  return (type, object, context) => {
    const field = type.group === RBAC_GROUP ? FIELDS[type.plural] : undefined;
    if (field !== undefined) {
      try {
        new Authorizer({ [field]: [object] });
      } catch (error) {
        throw new ApiError(
          'Invalid',
          `${type.kind}.${type.group} ${JSON.stringify(object.metadata.name)} is invalid: ${(error as Error).message}`,
          { name: object.metadata.name, group: type.group, kind: type.plural },
        );
      }
    }
    return next(type, object, context);
  };
}

const FIELDS: Readonly<Record<string, keyof ConstructorParameters<typeof Authorizer>[0]>> = {
  roles: 'roles',
  clusterroles: 'clusterRoles',
  rolebindings: 'roleBindings',
  clusterrolebindings: 'clusterRoleBindings',
};

function rbacType(plural: string): ResourceType {
  return builtInType(RBAC_GROUP, plural);
}
