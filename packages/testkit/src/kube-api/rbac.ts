// RBAC authorization as kube-apiserver's RBAC authorizer decides it, so that a chart's Roles are
// tested against the rules the cluster will enforce (Using RBAC Authorization,
// https://kubernetes.io/docs/reference/access-authn-authz/rbac/). Pure: no I/O.

const RBAC_GROUP = 'rbac.authorization.k8s.io';

export type Verb =
  'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

/** What a resource request asks to do, as the authorizer sees it. */
export interface RequestAttributes {
  readonly verb: Verb;
  /** '' is the core group. */
  readonly apiGroup: string;
  /** The plural, as in the URL. */
  readonly resource: string;
  readonly subresource?: string;
  /** '' for a request across all namespaces, where only ClusterRoleBindings apply. */
  readonly namespace: string;
  /**
   * The object's name; absent for create and deletecollection on a collection. A list or watch
   * carries the name of its `metadata.name` field selector, if any, as kube-apiserver does.
   */
  readonly name?: string;
}

/** An rbac.authorization.k8s.io/v1 PolicyRule (resource rules only). */
export interface PolicyRule {
  readonly apiGroups?: readonly string[];
  readonly resources?: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
}

export interface ObjectMeta {
  readonly name: string;
  /** Required for Roles and RoleBindings; ClusterRoles and ClusterRoleBindings have none. */
  readonly namespace?: string;
}

/** A Role or a ClusterRole. */
export interface Role {
  readonly metadata: ObjectMeta;
  readonly rules: readonly PolicyRule[];
}

export type Subject =
  // In a RoleBinding, a service account without a namespace is one of the binding's namespace.
  | { readonly kind: 'ServiceAccount'; readonly name: string; readonly namespace?: string }
  | { readonly kind: 'User' | 'Group'; readonly name: string };

/** Who makes a request: the username and groups its authenticator found. */
export interface UserInfo {
  readonly name: string;
  readonly groups?: readonly string[];
}

/**
 * One permission, as a request uses it and as a rule grants it. A request's name is left out:
 * resourceNames narrow a permission to some objects, which the authorizer enforces, but the
 * permission is the same one.
 */
export interface Permission {
  readonly verb: string;
  /** '' is the core group. */
  readonly apiGroup: string;
  /** The plural, with `/subresource` when there is one: `chaosexperiments/status`. */
  readonly resource: string;
  /** '' for the cluster scope. */
  readonly namespace: string;
}

/** A RoleBinding or a ClusterRoleBinding. */
export interface RoleBinding {
  readonly metadata: ObjectMeta;
  readonly subjects: readonly Subject[];
  readonly roleRef: {
    readonly apiGroup: typeof RBAC_GROUP;
    readonly kind: 'Role' | 'ClusterRole';
    readonly name: string;
  };
}

/** A cluster's RBAC objects as parsed from YAML manifests; each is checked on construction. */
export interface RbacObjects {
  readonly roles?: readonly unknown[];
  readonly clusterRoles?: readonly unknown[];
  readonly roleBindings?: readonly unknown[];
  readonly clusterRoleBindings?: readonly unknown[];
}

/**
 * The verb of a resource request ("Determine the request verb",
 * https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb);
 * undefined for a method the API does not authorize as a resource verb.
 */
export function verbOf(
  method: string,
  target: 'collection' | 'object',
  watch: boolean,
): Verb | undefined {
  switch (method) {
    case 'GET':
    case 'HEAD':
      if (watch) return 'watch';
      return target === 'collection' ? 'list' : 'get';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return target === 'collection' ? 'deletecollection' : 'delete';
    default:
      return undefined;
  }
}

/** What one binding grants: its rules, to its subjects, in its namespace (or everywhere). */
interface Grant {
  readonly namespace?: string;
  /** `user:NAME` and `group:NAME`, so that a user and a group of one name stay apart. */
  readonly subjects: ReadonlySet<string>;
  readonly rules: readonly PolicyRule[];
}

export class Authorizer {
  readonly #grants: readonly Grant[];

  /** Throws an Error naming the object and the field of the first malformed manifest. */
  constructor(objects: RbacObjects) {
    const roles = byKey('Role', objects.roles ?? []);
    const clusterRoles = byKey('ClusterRole', objects.clusterRoles ?? []);
    const rulesOf = (binding: RoleBinding): readonly PolicyRule[] => {
      const { kind, name } = binding.roleRef;
      const role =
        kind === 'Role'
          ? roles.get(keyOf({ name, namespace: binding.metadata.namespace }))
          : clusterRoles.get(name);
      // A binding may land before its role (or name one that never comes): kube's authorizer then
      // grants nothing through it, and so does this one.
      return role?.rules ?? [];
    };
    const grant = (binding: RoleBinding): Grant => ({
      ...(binding.metadata.namespace === undefined
        ? {}
        : { namespace: binding.metadata.namespace }),
      subjects: new Set(binding.subjects.map((s) => subjectKeyOf(s, binding.metadata.namespace))),
      rules: rulesOf(binding),
    });
    this.#grants = [
      ...(objects.roleBindings ?? []).map((value, i) => parseBinding(value, 'RoleBinding', i)),
      ...(objects.clusterRoleBindings ?? []).map((value, i) =>
        parseBinding(value, 'ClusterRoleBinding', i),
      ),
    ].map(grant);
  }

  /**
   * Whether any binding of `user` (a username, or a user with groups) has a rule that allows the
   * request; RBAC has no denies.
   */
  allows(user: string | UserInfo, attributes: RequestAttributes): boolean {
    const { name, groups = [] } = typeof user === 'string' ? { name: user } : user;
    const keys = [`user:${name}`, ...groups.map((group) => `group:${group}`)];
    return this.#grants.some(
      (grant) =>
        // "RoleBinding and ClusterRoleBinding": a RoleBinding grants within its namespace only,
        // even when it references a ClusterRole; a ClusterRoleBinding grants cluster-wide.
        (grant.namespace === undefined || grant.namespace === attributes.namespace) &&
        keys.some((key) => grant.subjects.has(key)) &&
        grant.rules.some((rule) => ruleAllows(rule, attributes)),
    );
  }
}

/**
 * The message of kube-apiserver's 403 Status for a denied request: apimachinery's NewForbidden
 * prefix (`<resource>[.<group>] ["<name>"] is forbidden: `) around the apiserver's forbiddenMessage
 * (k8s.io/apiserver responsewriters/errors.go), which names the subresource and the scope.
 */
export function describeRequest(user: string, attributes: RequestAttributes): string {
  const { verb, apiGroup, resource, namespace, name } = attributes;
  const qualified = apiGroup === '' ? resource : `${resource}.${apiGroup}`;
  const target = name === undefined || name === '' ? qualified : `${qualified} ${quote(name)}`;
  const scope = namespace === '' ? 'at the cluster scope' : `in the namespace ${quote(namespace)}`;
  const resourceText = quote(combinedResource(attributes));
  const why = `User ${quote(user)} cannot ${verb} resource ${resourceText} in API group ${quote(apiGroup)} ${scope}`;
  // The apiserver escapes what could read as HTML in its part of the message, quotes excepted.
  const sanitized = why.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  return `${target} is forbidden: ${sanitized}`;
}

/** The permission a request uses. */
export function permissionOf(attributes: RequestAttributes): Permission {
  const { verb, apiGroup, namespace } = attributes;
  return { verb, apiGroup, resource: combinedResource(attributes), namespace };
}

/**
 * Every permission a Role's (or a ClusterRole's) rules grant, sorted as `sortedPermissions` sorts,
 * so that a test can hold it against what a component used. A Role grants in its namespace; a
 * ClusterRole where it is bound, `namespace` ('' for a ClusterRoleBinding, the cluster scope).
 * Throws on a malformed manifest and on any '*': least privilege names each verb, group and
 * resource, and a wildcard also grants what later versions of the API add.
 */
export function grantedPermissions(manifest: unknown, namespace = ''): Permission[] {
  const kind =
    (manifest as { kind?: unknown } | null)?.kind === 'ClusterRole' ? 'ClusterRole' : 'Role';
  const role = parseRole(manifest, kind, 0);
  const label = `${kind} ${quote(keyOf(role.metadata))}`;
  const where = role.metadata.namespace ?? namespace;
  return sortedPermissions(
    role.rules.flatMap((rule, i) => {
      for (const field of ['verbs', 'apiGroups', 'resources'] as const) {
        if ((rule[field] ?? []).some((value) => value.includes('*'))) {
          throw new Error(`${label}: rules[${i}].${field}: a wildcard '*' is not least privilege`);
        }
      }
      return rule.verbs.flatMap((verb) =>
        (rule.apiGroups ?? []).flatMap((apiGroup) =>
          (rule.resources ?? []).map((resource) => ({
            verb,
            apiGroup,
            resource,
            namespace: where,
          })),
        ),
      );
    }),
  );
}

/** Distinct permissions in one order (namespace, group, resource, verb), for comparing sets. */
export function sortedPermissions(permissions: Iterable<Permission>): Permission[] {
  const byKey = new Map([...permissions].map((p) => [permissionKey(p), p]));
  return [...byKey.keys()].sort().map((key) => byKey.get(key) as Permission);
}

/** A permission as a string, so that a Map or Set holds each one once. */
export function permissionKey({ namespace, apiGroup, resource, verb }: Permission): string {
  return JSON.stringify([namespace, apiGroup, resource, verb]);
}

// Go's %q and JSON agree on printable text, which is all that names and usernames hold here.
function quote(text: string): string {
  return JSON.stringify(text);
}

// "Referring to resources": a rule names a subresource as `resource/subresource`.
function combinedResource({ resource, subresource }: RequestAttributes): string {
  return subresource === undefined || subresource === '' ? resource : `${resource}/${subresource}`;
}

function ruleAllows(rule: PolicyRule, attributes: RequestAttributes): boolean {
  return (
    matches(rule.verbs, attributes.verb) &&
    matches(rule.apiGroups ?? [], attributes.apiGroup) &&
    resourceMatches(rule.resources ?? [], attributes) &&
    nameMatches(rule.resourceNames ?? [], attributes.name)
  );
}

function matches(allowed: readonly string[], requested: string): boolean {
  return allowed.includes('*') || allowed.includes(requested);
}

// `*` matches every resource and subresource, `*/status` one subresource of every resource (the
// PolicyRule reference, https://kubernetes.io/docs/reference/kubernetes-api/authorization-resources/role-v1/);
// nothing else is a pattern, so `pods` does not cover `pods/log` and `pods/*` is a literal.
function resourceMatches(allowed: readonly string[], attributes: RequestAttributes): boolean {
  const combined = combinedResource(attributes);
  const sub = attributes.subresource ?? '';
  return allowed.some((r) => r === '*' || r === combined || (sub !== '' && r === `*/${sub}`));
}

// "Referring to resources": resourceNames admit only requests naming one of them, so create and
// deletecollection (which carry no name) never match, nor list and watch without a
// `metadata.name` field selector.
function nameMatches(allowed: readonly string[], name: string | undefined): boolean {
  return allowed.length === 0 || (name !== undefined && allowed.includes(name));
}

// "Referring to subjects": a service account authenticates as system:serviceaccount:NS:NAME.
function subjectKeyOf(subject: Subject, bindingNamespace: string | undefined): string {
  if (subject.kind !== 'ServiceAccount') return `${subject.kind.toLowerCase()}:${subject.name}`;
  return `user:${serviceAccountName(subject.namespace ?? bindingNamespace ?? '', subject.name)}`;
}

/** The username a service account's token authenticates as. */
export function serviceAccountName(namespace: string, name: string): string {
  return `system:serviceaccount:${namespace}:${name}`;
}

type ManifestKind = 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding';
type Fields = Readonly<Record<string, unknown>>;

function parseRole(value: unknown, kind: 'Role' | 'ClusterRole', index: number): Role {
  const { fields, metadata, label } = parseObject(value, kind, index);
  const rules = array(fields['rules'], `${label}: rules`).map((item, i) => {
    const where = `${label}: rules[${i}]`;
    const rule = record(item, where);
    return {
      verbs: strings(rule['verbs'], `${where}.verbs`),
      ...optionalStrings(rule, 'apiGroups', where),
      ...optionalStrings(rule, 'resources', where),
      ...optionalStrings(rule, 'resourceNames', where),
    };
  });
  return { metadata, rules };
}

function parseBinding(
  value: unknown,
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  index: number,
): RoleBinding {
  const { fields, metadata, label } = parseObject(value, kind, index);
  const ref = record(fields['roleRef'], `${label}: roleRef`);
  if (ref['apiGroup'] !== RBAC_GROUP) {
    throw new Error(
      `${label}: roleRef.apiGroup: must be ${RBAC_GROUP}, got ${show(ref['apiGroup'])}`,
    );
  }
  // A ClusterRoleBinding can reference only a ClusterRole: there is no namespace to find a Role in.
  const kinds = kind === 'RoleBinding' ? ['Role', 'ClusterRole'] : ['ClusterRole'];
  const refKind = ref['kind'];
  if (typeof refKind !== 'string' || !kinds.includes(refKind)) {
    throw new Error(`${label}: roleRef.kind: must be ${kinds.join(' or ')}, got ${show(refKind)}`);
  }
  const roleRef = {
    apiGroup: RBAC_GROUP,
    kind: refKind as 'Role' | 'ClusterRole',
    name: text(ref['name'], `${label}: roleRef.name`),
  } as const;
  const subjects = array(fields['subjects'], `${label}: subjects`).map((item, i): Subject => {
    const where = `${label}: subjects[${i}]`;
    const subject = record(item, where);
    const name = text(subject['name'], `${where}.name`);
    const kind = subject['kind'];
    if (kind === 'User' || kind === 'Group') return { kind, name };
    if (kind !== 'ServiceAccount') {
      throw new Error(`${where}.kind: must be ServiceAccount, User or Group, got ${show(kind)}`);
    }
    // The namespace may be left out only where the binding's own can stand in for it.
    const namespace =
      metadata.namespace === undefined || subject['namespace'] !== undefined
        ? text(subject['namespace'], `${where}.namespace`)
        : undefined;
    return { kind: 'ServiceAccount', name, ...(namespace === undefined ? {} : { namespace }) };
  });
  return { metadata, subjects, roleRef };
}

/** An object's fields and metadata, and how error messages name it: `Role "catmesh/reader"`. */
function parseObject(
  value: unknown,
  kind: ManifestKind,
  index: number,
): { fields: Fields; metadata: ObjectMeta; label: string } {
  const where = `${kind} #${index}`;
  const fields = record(value, where);
  const meta = record(fields['metadata'], `${where}: metadata`);
  const name = text(meta['name'], `${where}: metadata.name`);
  if (kind === 'ClusterRole' || kind === 'ClusterRoleBinding') {
    return { fields, metadata: { name }, label: `${kind} ${quote(name)}` };
  }
  const namespace = text(meta['namespace'], `${kind} ${quote(name)}: metadata.namespace`);
  return {
    fields,
    metadata: { name, namespace },
    label: `${kind} ${quote(`${namespace}/${name}`)}`,
  };
}

// Two roles of one name would leave it to chance which one a binding gets.
function byKey(
  kind: 'Role' | 'ClusterRole',
  values: readonly unknown[],
): ReadonlyMap<string, Role> {
  const map = new Map<string, Role>();
  values.forEach((value, index) => {
    const role = parseRole(value, kind, index);
    const key = keyOf(role.metadata);
    if (map.has(key)) throw new Error(`${kind} ${quote(key)} is defined twice`);
    map.set(key, role);
  });
  return map;
}

function keyOf({ name, namespace }: ObjectMeta): string {
  return namespace === undefined ? name : `${namespace}/${name}`;
}

function record(value: unknown, where: string): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`${where}: must be an object, got ${show(value)}`);
  }
  return value as Fields;
}

function array(value: unknown, where: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new Error(`${where}: must be an array, got ${show(value)}`);
  return value;
}

function strings(value: unknown, where: string): readonly string[] {
  const items = array(value, where);
  const bad = items.findIndex((item) => typeof item !== 'string');
  if (bad !== -1) throw new Error(`${where}[${bad}]: must be a string, got ${show(items[bad])}`);
  return items as readonly string[];
}

function optionalStrings(
  rule: Fields,
  field: 'apiGroups' | 'resources' | 'resourceNames',
  where: string,
): Partial<Record<typeof field, readonly string[]>> {
  const value = rule[field];
  return value === undefined ? {} : { [field]: strings(value, `${where}.${field}`) };
}

function text(value: unknown, where: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new Error(`${where}: must be a non-empty string, got ${show(value)}`);
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = JSON.stringify(value) ?? typeof value;
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}
