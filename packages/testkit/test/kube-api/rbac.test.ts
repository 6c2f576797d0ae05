// RBAC decisions as kube-apiserver's RBAC authorizer makes them
// (https://kubernetes.io/docs/reference/access-authn-authz/rbac/).
import { describe, expect, it } from 'vitest';
import {
  Authorizer,
  describeRequest,
  grantedPermissions,
  permissionOf,
  verbOf,
  type PolicyRule,
  type RequestAttributes,
  type Role,
  type RoleBinding,
} from '../../src/kube-api/rbac.js';

const CONTROLLER = 'system:serviceaccount:catmesh:chaos-controller';
const GROUP = 'catmesh.dev';
const EDITOR_RULE: PolicyRule = {
  apiGroups: [GROUP],
  resources: ['chaosexperiments'],
  verbs: ['get'],
};

function request(overrides: Partial<RequestAttributes> = {}): RequestAttributes {
  return {
    verb: 'get',
    apiGroup: GROUP,
    resource: 'chaosexperiments',
    namespace: 'catmesh',
    ...overrides,
  };
}

function role(name: string, namespace: string | undefined, rules: readonly PolicyRule[]): Role {
  return { metadata: { name, ...(namespace === undefined ? {} : { namespace }) }, rules };
}

function binding(
  name: string,
  namespace: string | undefined,
  roleRef: { readonly kind: 'Role' | 'ClusterRole'; readonly name: string },
  subjects: RoleBinding['subjects'] = [
    { kind: 'ServiceAccount', name: 'chaos-controller', namespace: 'catmesh' },
  ],
): RoleBinding {
  return {
    metadata: { name, ...(namespace === undefined ? {} : { namespace }) },
    subjects,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef },
  };
}

/** The controller, bound in `catmesh` to a Role holding `rules`. */
function controllerWith(...rules: PolicyRule[]): Authorizer {
  return new Authorizer({
    roles: [role('chaos', 'catmesh', rules)],
    roleBindings: [binding('chaos', 'catmesh', { kind: 'Role', name: 'chaos' })],
  });
}

describe('verbOf', () => {
  it.each([
    ['GET', 'collection', false, 'list'],
    ['GET', 'object', false, 'get'],
    ['GET', 'collection', true, 'watch'],
    ['GET', 'object', true, 'watch'],
    ['HEAD', 'object', false, 'get'],
    ['POST', 'collection', false, 'create'],
    ['PUT', 'object', false, 'update'],
    ['PATCH', 'object', false, 'patch'],
    ['DELETE', 'object', false, 'delete'],
    ['DELETE', 'collection', false, 'deletecollection'],
  ] as const)('%s on a %s (watch %s) is %s', (method, target, watch, verb) => {
    expect(verbOf(method, target, watch)).toBe(verb);
  });

  it('has no verb for other methods', () => {
    expect(verbOf('OPTIONS', 'object', false)).toBeUndefined();
    expect(verbOf('CONNECT', 'object', false)).toBeUndefined();
    // HTTP methods are case-sensitive.
    expect(verbOf('get', 'object', false)).toBeUndefined();
  });
});

describe('rule matching', () => {
  it('matches verbs, groups and resources exactly', () => {
    const authorizer = controllerWith({
      apiGroups: [GROUP],
      resources: ['chaosexperiments'],
      verbs: ['get', 'list'],
    });
    expect(authorizer.allows(CONTROLLER, request({ verb: 'get' }))).toBe(true);
    expect(authorizer.allows(CONTROLLER, request({ verb: 'list' }))).toBe(true);
    expect(authorizer.allows(CONTROLLER, request({ verb: 'delete' }))).toBe(false);
    expect(authorizer.allows(CONTROLLER, request({ apiGroup: '' }))).toBe(false);
    expect(authorizer.allows(CONTROLLER, request({ apiGroup: 'other.dev' }))).toBe(false);
    expect(authorizer.allows(CONTROLLER, request({ resource: 'chaosreports' }))).toBe(false);
  });

  it('takes * for any verb, group (the core group too) or resource', () => {
    const anyVerb = controllerWith({
      apiGroups: [GROUP],
      resources: ['chaosexperiments'],
      verbs: ['*'],
    });
    expect(anyVerb.allows(CONTROLLER, request({ verb: 'deletecollection' }))).toBe(true);
    expect(anyVerb.allows(CONTROLLER, request({ resource: 'pods' }))).toBe(false);

    const anyGroup = controllerWith({ apiGroups: ['*'], resources: ['pods'], verbs: ['get'] });
    expect(anyGroup.allows(CONTROLLER, request({ apiGroup: '', resource: 'pods' }))).toBe(true);
    expect(anyGroup.allows(CONTROLLER, request({ apiGroup: 'x.dev', resource: 'pods' }))).toBe(
      true,
    );
    expect(anyGroup.allows(CONTROLLER, request({ apiGroup: '', resource: 'leases' }))).toBe(false);

    const anyResource = controllerWith({ apiGroups: [''], resources: ['*'], verbs: ['get'] });
    expect(anyResource.allows(CONTROLLER, request({ apiGroup: '', resource: 'pods' }))).toBe(true);
    expect(anyResource.allows(CONTROLLER, request({ apiGroup: GROUP }))).toBe(false);
  });

  it('matches nothing when a rule leaves apiGroups or resources out', () => {
    const noGroups = controllerWith({ resources: ['chaosexperiments'], verbs: ['*'] });
    const noResources = controllerWith({ apiGroups: [GROUP], verbs: ['*'] });
    expect(noGroups.allows(CONTROLLER, request())).toBe(false);
    expect(noResources.allows(CONTROLLER, request())).toBe(false);
  });

  it('grants a subresource only when a rule names it', () => {
    const status = request({ verb: 'patch', subresource: 'status' });
    const main = request({ verb: 'patch' });
    const withResources = (...resources: string[]): Authorizer =>
      controllerWith({ apiGroups: [GROUP], resources, verbs: ['patch'] });

    expect(withResources('chaosexperiments').allows(CONTROLLER, status)).toBe(false);
    expect(withResources('chaosexperiments').allows(CONTROLLER, main)).toBe(true);
    expect(withResources('chaosexperiments/status').allows(CONTROLLER, status)).toBe(true);
    expect(withResources('chaosexperiments/status').allows(CONTROLLER, main)).toBe(false);
    expect(withResources('*/status').allows(CONTROLLER, status)).toBe(true);
    expect(withResources('*/status').allows(CONTROLLER, main)).toBe(false);
    expect(withResources('*/scale').allows(CONTROLLER, status)).toBe(false);
    expect(withResources('*').allows(CONTROLLER, status)).toBe(true);
    // Only `*` and `*/sub` are patterns: `resource/*` is a literal that no request names.
    expect(withResources('chaosexperiments/*').allows(CONTROLLER, status)).toBe(false);
  });

  it('restricts by resourceNames, which requests without a name never match', () => {
    const authorizer = controllerWith({
      apiGroups: [''],
      resources: ['configmaps'],
      resourceNames: ['catmesh-config'],
      verbs: ['get', 'list', 'watch', 'create', 'update', 'deletecollection'],
    });
    const configmaps = (overrides: Partial<RequestAttributes>): RequestAttributes =>
      request({ apiGroup: '', resource: 'configmaps', ...overrides });

    expect(authorizer.allows(CONTROLLER, configmaps({ verb: 'get', name: 'catmesh-config' }))).toBe(
      true,
    );
    expect(authorizer.allows(CONTROLLER, configmaps({ verb: 'update', name: 'other' }))).toBe(
      false,
    );
    expect(authorizer.allows(CONTROLLER, configmaps({ verb: 'list' }))).toBe(false);
    expect(authorizer.allows(CONTROLLER, configmaps({ verb: 'watch' }))).toBe(false);
    expect(authorizer.allows(CONTROLLER, configmaps({ verb: 'create' }))).toBe(false);
    expect(authorizer.allows(CONTROLLER, configmaps({ verb: 'deletecollection' }))).toBe(false);
    // A list with the field selector metadata.name=catmesh-config carries that name.
    expect(
      authorizer.allows(CONTROLLER, configmaps({ verb: 'list', name: 'catmesh-config' })),
    ).toBe(true);
  });
});

describe('bindings', () => {
  const EDITOR: PolicyRule = { apiGroups: [GROUP], resources: ['chaosexperiments'], verbs: ['*'] };

  it('grants through a RoleBinding only in its own namespace', () => {
    const authorizer = controllerWith(EDITOR);
    expect(authorizer.allows(CONTROLLER, request({ namespace: 'catmesh' }))).toBe(true);
    expect(authorizer.allows(CONTROLLER, request({ namespace: 'default' }))).toBe(false);
    expect(authorizer.allows(CONTROLLER, request({ namespace: '' }))).toBe(false);
  });

  it('finds the Role of a RoleBinding in the binding namespace', () => {
    const authorizer = new Authorizer({
      roles: [role('chaos', 'default', [EDITOR])],
      roleBindings: [binding('chaos', 'catmesh', { kind: 'Role', name: 'chaos' })],
    });
    expect(authorizer.allows(CONTROLLER, request({ namespace: 'catmesh' }))).toBe(false);
    expect(authorizer.allows(CONTROLLER, request({ namespace: 'default' }))).toBe(false);
  });

  it('applies a ClusterRole referenced by a RoleBinding in that namespace only', () => {
    const authorizer = new Authorizer({
      clusterRoles: [role('chaos-editor', undefined, [EDITOR])],
      roleBindings: [binding('chaos', 'catmesh', { kind: 'ClusterRole', name: 'chaos-editor' })],
    });
    expect(authorizer.allows(CONTROLLER, request({ namespace: 'catmesh' }))).toBe(true);
    expect(authorizer.allows(CONTROLLER, request({ namespace: 'shop' }))).toBe(false);
  });

  it('grants through a ClusterRoleBinding in every namespace and cluster-wide', () => {
    const authorizer = new Authorizer({
      clusterRoles: [role('chaos-editor', undefined, [EDITOR])],
      clusterRoleBindings: [
        binding('chaos', undefined, { kind: 'ClusterRole', name: 'chaos-editor' }),
      ],
    });
    expect(authorizer.allows(CONTROLLER, request({ namespace: 'catmesh' }))).toBe(true);
    expect(authorizer.allows(CONTROLLER, request({ namespace: 'shop' }))).toBe(true);
    expect(authorizer.allows(CONTROLLER, request({ namespace: '' }))).toBe(true);
    expect(authorizer.allows(CONTROLLER, request({ resource: 'pods', apiGroup: '' }))).toBe(false);
  });

  it('binds a User subject by its name', () => {
    const authorizer = new Authorizer({
      roles: [role('chaos', 'catmesh', [EDITOR])],
      roleBindings: [
        binding('alice', 'catmesh', { kind: 'Role', name: 'chaos' }, [
          { kind: 'User', name: 'alice' },
        ]),
      ],
    });
    expect(authorizer.allows('alice', request())).toBe(true);
    expect(authorizer.allows('bob', request())).toBe(false);
    expect(authorizer.allows(CONTROLLER, request())).toBe(false);
  });

  it('binds a Group subject to every user in the group, and not to a user of that name', () => {
    const authorizer = new Authorizer({
      roles: [role('chaos', 'catmesh', [EDITOR])],
      roleBindings: [
        binding('all-sa', 'catmesh', { kind: 'Role', name: 'chaos' }, [
          { kind: 'Group', name: 'system:serviceaccounts:catmesh' },
        ]),
      ],
    });
    const groups = ['system:serviceaccounts', 'system:serviceaccounts:catmesh'];
    expect(authorizer.allows({ name: CONTROLLER, groups }, request())).toBe(true);
    expect(
      authorizer.allows({ name: CONTROLLER, groups: ['system:serviceaccounts'] }, request()),
    ).toBe(false);
    expect(authorizer.allows('system:serviceaccounts:catmesh', request())).toBe(false);
  });

  it('takes a RoleBinding namespace for a service account subject that names none', () => {
    const authorizer = new Authorizer({
      roles: [role('chaos', 'catmesh', [EDITOR])],
      roleBindings: [
        binding('chaos', 'catmesh', { kind: 'Role', name: 'chaos' }, [
          { kind: 'ServiceAccount', name: 'chaos-controller' },
        ]),
      ],
    });
    expect(authorizer.allows(CONTROLLER, request())).toBe(true);
    expect(authorizer.allows('system:serviceaccount:default:chaos-controller', request())).toBe(
      false,
    );
  });

  it('denies users no binding names, and grants nothing through a missing role', () => {
    const authorizer = new Authorizer({
      roles: [role('chaos', 'catmesh', [EDITOR])],
      roleBindings: [
        binding('chaos', 'catmesh', { kind: 'Role', name: 'chaos' }),
        binding('ghost', 'catmesh', { kind: 'Role', name: 'not-there' }, [
          { kind: 'User', name: 'ghost' },
        ]),
      ],
    });
    expect(authorizer.allows(CONTROLLER, request())).toBe(true);
    expect(authorizer.allows('system:serviceaccount:shop:chaos-controller', request())).toBe(false);
    expect(authorizer.allows('system:serviceaccount:catmesh:default', request())).toBe(false);
    expect(authorizer.allows('chaos-controller', request())).toBe(false);
    expect(authorizer.allows('ghost', request())).toBe(false);
    expect(new Authorizer({}).allows(CONTROLLER, request())).toBe(false);
  });
});

describe('malformed manifests', () => {
  const ROLE_REF = { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'chaos' };
  const SUBJECTS = [{ kind: 'ServiceAccount', name: 'chaos-controller', namespace: 'catmesh' }];
  const META = { name: 'chaos', namespace: 'catmesh' };

  it.each([
    [{ metadata: META }, 'Role "catmesh/chaos": rules: must be an array, got nothing'],
    [{ metadata: META, rules: {} }, 'Role "catmesh/chaos": rules: must be an array, got {}'],
    [
      { metadata: META, rules: [{ apiGroups: [''], resources: ['pods'] }] },
      'Role "catmesh/chaos": rules[0].verbs: must be an array, got nothing',
    ],
    [
      { metadata: META, rules: [{ verbs: ['get'], resources: 'pods' }] },
      'Role "catmesh/chaos": rules[0].resources: must be an array, got "pods"',
    ],
    [
      { metadata: META, rules: [{ verbs: ['get', 7] }] },
      'Role "catmesh/chaos": rules[0].verbs[1]: must be a string, got 7',
    ],
    [
      { metadata: { name: 'chaos' }, rules: [] },
      'Role "chaos": metadata.namespace: must be a non-empty string, got nothing',
    ],
    [{ rules: [] }, 'Role #0: metadata: must be an object, got nothing'],
  ])('rejects the Role %j', (manifest, message) => {
    expect(() => new Authorizer({ roles: [manifest] })).toThrow(message);
  });

  it.each([
    [
      { metadata: META, subjects: SUBJECTS },
      'RoleBinding "catmesh/chaos": roleRef: must be an object, got nothing',
    ],
    [
      { metadata: META, roleRef: ROLE_REF },
      'RoleBinding "catmesh/chaos": subjects: must be an array, got nothing',
    ],
    [
      { metadata: META, roleRef: ROLE_REF, subjects: SUBJECTS[0] },
      'RoleBinding "catmesh/chaos": subjects: must be an array, got {"kind":"ServiceAccount"',
    ],
    [
      { metadata: META, roleRef: { ...ROLE_REF, kind: 'Roles' }, subjects: SUBJECTS },
      'RoleBinding "catmesh/chaos": roleRef.kind: must be Role or ClusterRole, got "Roles"',
    ],
    [
      { metadata: META, roleRef: { kind: 'Role', name: 'chaos' }, subjects: SUBJECTS },
      'RoleBinding "catmesh/chaos": roleRef.apiGroup: must be rbac.authorization.k8s.io, got nothing',
    ],
    [
      { metadata: META, roleRef: ROLE_REF, subjects: [{ kind: 'Team', name: 'system:masters' }] },
      'RoleBinding "catmesh/chaos": subjects[0].kind: must be ServiceAccount, User or Group, got "Team"',
    ],
    [
      { metadata: META, roleRef: ROLE_REF, subjects: [{ kind: 'User' }] },
      'RoleBinding "catmesh/chaos": subjects[0].name: must be a non-empty string, got nothing',
    ],
  ])('rejects the RoleBinding %j', (manifest, message) => {
    expect(() => new Authorizer({ roleBindings: [manifest] })).toThrow(message);
  });

  it('rejects a ClusterRoleBinding to a Role, or to a service account of no namespace', () => {
    const toRole = { metadata: { name: 'chaos' }, roleRef: ROLE_REF, subjects: SUBJECTS };
    expect(() => new Authorizer({ clusterRoleBindings: [toRole] })).toThrow(
      'ClusterRoleBinding "chaos": roleRef.kind: must be ClusterRole, got "Role"',
    );
    const noNamespace = {
      metadata: { name: 'chaos' },
      roleRef: { ...ROLE_REF, kind: 'ClusterRole' },
      subjects: [{ kind: 'ServiceAccount', name: 'chaos-controller' }],
    };
    expect(() => new Authorizer({ clusterRoleBindings: [noNamespace] })).toThrow(
      'ClusterRoleBinding "chaos": subjects[0].namespace: must be a non-empty string, got nothing',
    );
  });

  it('rejects two roles of one name', () => {
    const twice = { roles: [role('chaos', 'catmesh', []), role('chaos', 'catmesh', [])] };
    expect(() => new Authorizer(twice)).toThrow('Role "catmesh/chaos" is defined twice');
    const apart = { roles: [role('chaos', 'catmesh', []), role('chaos', 'shop', [])] };
    expect(() => new Authorizer(apart)).not.toThrow();
  });
});

describe('describeRequest', () => {
  it('words a denial as kube-apiserver does', () => {
    expect(
      describeRequest(
        CONTROLLER,
        request({ verb: 'patch', subresource: 'status', name: 'partition' }),
      ),
    ).toBe(
      'chaosexperiments.catmesh.dev "partition" is forbidden: User "system:serviceaccount:catmesh:chaos-controller" ' +
        'cannot patch resource "chaosexperiments/status" in API group "catmesh.dev" in the namespace "catmesh"',
    );
    expect(
      describeRequest('x', { verb: 'list', apiGroup: '', resource: 'pods', namespace: 'default' }),
    ).toBe(
      'pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "default"',
    );
    expect(
      describeRequest('x', {
        verb: 'get',
        apiGroup: '',
        resource: 'pods',
        namespace: 'default',
        name: 'web-0',
      }),
    ).toBe(
      'pods "web-0" is forbidden: User "x" cannot get resource "pods" in API group "" in the namespace "default"',
    );
  });

  it('says "at the cluster scope" for a request across namespaces', () => {
    expect(describeRequest('x', request({ verb: 'list', namespace: '' }))).toBe(
      'chaosexperiments.catmesh.dev is forbidden: User "x" cannot list resource "chaosexperiments" ' +
        'in API group "catmesh.dev" at the cluster scope',
    );
  });

  it('escapes what could read as HTML in the user part, as the apiserver does', () => {
    expect(describeRequest('<b>&', request())).toBe(
      'chaosexperiments.catmesh.dev is forbidden: User "&lt;b&gt;&amp;" cannot get resource ' +
        '"chaosexperiments" in API group "catmesh.dev" in the namespace "catmesh"',
    );
  });
});

describe('grantedPermissions', () => {
  const manifest = (rules: readonly PolicyRule[], kind = 'Role'): object => ({
    kind,
    metadata: { name: 'chaos', ...(kind === 'Role' ? { namespace: 'catmesh' } : {}) },
    rules,
  });

  it('expands every rule into one permission per verb, group and resource, in its namespace', () => {
    const granted = grantedPermissions(
      manifest([
        { apiGroups: [GROUP], resources: ['chaosexperiments'], verbs: ['watch', 'list'] },
        { apiGroups: [GROUP], resources: ['chaosexperiments/status'], verbs: ['patch'] },
        // A duplicate of a permission above, and one narrowed by name: each counts once.
        { apiGroups: [GROUP], resources: ['chaosexperiments'], verbs: ['list'] },
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          verbs: ['get'],
          resourceNames: ['leader'],
        },
      ]),
    );
    const at = (verb: string, apiGroup: string, resource: string): object => ({
      verb,
      apiGroup,
      resource,
      namespace: 'catmesh',
    });
    expect(granted).toEqual([
      at('list', GROUP, 'chaosexperiments'),
      at('watch', GROUP, 'chaosexperiments'),
      at('patch', GROUP, 'chaosexperiments/status'),
      at('get', 'coordination.k8s.io', 'leases'),
    ]);
  });

  it('speaks the language of requests: a request a Role allows uses a permission it grants', () => {
    const rules = [
      { apiGroups: [GROUP], resources: ['chaosexperiments/status'], verbs: ['patch'] },
    ];
    const used = permissionOf(request({ verb: 'patch', subresource: 'status', name: 'x' }));
    expect(
      controllerWith(...rules).allows(
        CONTROLLER,
        request({ verb: 'patch', subresource: 'status' }),
      ),
    ).toBe(true);
    expect(grantedPermissions(manifest(rules))).toEqual([used]);
  });

  it('places a ClusterRole where it is bound, the cluster scope by default', () => {
    const rules = [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }];
    const pods = { verb: 'get', apiGroup: '', resource: 'pods' };
    expect(grantedPermissions(manifest(rules, 'ClusterRole'))).toEqual([
      { ...pods, namespace: '' },
    ]);
    expect(grantedPermissions(manifest(rules, 'ClusterRole'), 'shop')).toEqual([
      { ...pods, namespace: 'shop' },
    ]);
  });

  it.each([
    [{ apiGroups: [GROUP], resources: ['chaosexperiments'], verbs: ['*'] }, 'verbs'],
    [{ apiGroups: ['*'], resources: ['pods'], verbs: ['get'] }, 'apiGroups'],
    [{ apiGroups: [''], resources: ['*/status'], verbs: ['get'] }, 'resources'],
  ])('refuses a wildcard, which least privilege forbids (%j)', (rule, field) => {
    expect(() => grantedPermissions(manifest([EDITOR_RULE, rule]))).toThrow(
      `Role "catmesh/chaos": rules[1].${field}: a wildcard '*' is not least privilege`,
    );
  });

  it('refuses a malformed Role as the Authorizer does', () => {
    expect(() =>
      grantedPermissions({ kind: 'Role', metadata: { name: 'chaos' }, rules: [] }),
    ).toThrow('Role "chaos": metadata.namespace: must be a non-empty string, got nothing');
  });
});
