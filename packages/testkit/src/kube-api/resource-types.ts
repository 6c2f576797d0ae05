// The kinds the fake server serves: a fixed set of built-ins plus whatever CRDs the test hands it.
export interface ResourceType {
  /** '' is the core group, served under /api/v1. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  /** With a status subresource, writes to the main resource keep the stored status. */
  readonly statusSubresource: boolean;
  /** A kind outside namespaces (ClusterRole): served without `namespaces/NS/` in its paths. */
  readonly clusterScoped?: boolean;
  readonly singular?: string;
  readonly shortNames?: readonly string[];
  readonly categories?: readonly string[];
  /** The CRD's columns for `kubectl get`, after NAME; built-ins get NAME and AGE only. */
  readonly printerColumns?: readonly PrinterColumn[];
  /** A CRD version's openAPIV3Schema, published under /openapi/v3. */
  readonly schema?: object;
}

export interface PrinterColumn {
  readonly name: string;
  readonly type: string;
  readonly jsonPath: string;
  readonly description?: string;
  readonly priority?: number;
  readonly format?: string;
}

function builtIn(
  group: string,
  plural: string,
  kind: string,
  extra: { status?: boolean; clusterScoped?: boolean } = {},
): ResourceType {
  return {
    group,
    version: 'v1',
    plural,
    kind,
    statusSubresource: extra.status ?? false,
    ...(extra.clusterScoped === true ? { clusterScoped: true } : {}),
  };
}

export const BUILT_IN_TYPES: readonly ResourceType[] = [
  builtIn('', 'pods', 'Pod', { status: true }),
  builtIn('', 'configmaps', 'ConfigMap'),
  builtIn('', 'events', 'Event'),
  builtIn('', 'serviceaccounts', 'ServiceAccount'),
  builtIn('events.k8s.io', 'events', 'Event'),
  builtIn('networking.k8s.io', 'networkpolicies', 'NetworkPolicy'),
  builtIn('coordination.k8s.io', 'leases', 'Lease'),
  builtIn('apps', 'deployments', 'Deployment', { status: true }),
  builtIn('apps', 'statefulsets', 'StatefulSet', { status: true }),
  builtIn('apps', 'replicasets', 'ReplicaSet', { status: true }),
  builtIn('rbac.authorization.k8s.io', 'roles', 'Role'),
  builtIn('rbac.authorization.k8s.io', 'rolebindings', 'RoleBinding'),
  builtIn('rbac.authorization.k8s.io', 'clusterroles', 'ClusterRole', { clusterScoped: true }),
  builtIn('rbac.authorization.k8s.io', 'clusterrolebindings', 'ClusterRoleBinding', {
    clusterScoped: true,
  }),
];

/** The built-in type `group`/`plural` ('' is the core group); throws for one the fake lacks. */
export function builtInType(group: string, plural: string): ResourceType {
  const type = BUILT_IN_TYPES.find((t) => t.group === group && t.plural === plural);
  if (type === undefined) throw new Error(`the fake API server serves no ${group}/${plural}`);
  return type;
}

/** The built-in type an object of this apiVersion and kind is stored as; undefined if none. */
export function builtInTypeOf(object: {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
}): ResourceType | undefined {
  const apiVersion = String(object.apiVersion);
  const group = apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
  return BUILT_IN_TYPES.find((t) => t.group === group && t.kind === object.kind);
}

/** The parts of an apiextensions.k8s.io/v1 CustomResourceDefinition this server reads. */
export interface CustomResourceDefinition {
  readonly spec: {
    readonly group: string;
    /** Namespaced unless it says Cluster. */
    readonly scope?: string;
    readonly names: {
      readonly plural: string;
      readonly kind: string;
      readonly singular?: string;
      readonly shortNames?: readonly string[];
      readonly categories?: readonly string[];
    };
    readonly versions: readonly {
      readonly name: string;
      readonly served: boolean;
      readonly subresources?: { readonly status?: object };
      readonly additionalPrinterColumns?: readonly PrinterColumn[];
      readonly schema?: { readonly openAPIV3Schema?: object };
    }[];
  };
}

export function typesOfCrd(crd: CustomResourceDefinition): ResourceType[] {
  const { group, names } = crd.spec;
  return crd.spec.versions
    .filter((version) => version.served)
    .map((version) => ({
      group,
      version: version.name,
      plural: names.plural,
      kind: names.kind,
      statusSubresource: version.subresources?.status !== undefined,
      ...(crd.spec.scope === 'Cluster' ? { clusterScoped: true } : {}),
      ...(names.singular === undefined ? {} : { singular: names.singular }),
      ...(names.shortNames === undefined ? {} : { shortNames: names.shortNames }),
      ...(names.categories === undefined ? {} : { categories: names.categories }),
      ...(version.additionalPrinterColumns === undefined
        ? {}
        : { printerColumns: version.additionalPrinterColumns }),
      ...(version.schema?.openAPIV3Schema === undefined
        ? {}
        : { schema: version.schema.openAPIV3Schema }),
    }));
}

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}
