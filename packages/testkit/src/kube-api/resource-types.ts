// The kinds the fake server serves: a fixed set of built-ins plus whatever CRDs the test hands it.
export interface ResourceType {
  /** '' is the core group, served under /api/v1. */
  readonly group: string;
  readonly version: string;
  readonly plural: string;
  readonly kind: string;
  /** With a status subresource, writes to the main resource keep the stored status. */
  readonly statusSubresource: boolean;
}

export const BUILT_IN_TYPES: readonly ResourceType[] = [
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', statusSubresource: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', statusSubresource: false },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', statusSubresource: false },
  {
    group: 'events.k8s.io',
    version: 'v1',
    plural: 'events',
    kind: 'Event',
    statusSubresource: false,
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    plural: 'networkpolicies',
    kind: 'NetworkPolicy',
    statusSubresource: false,
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    plural: 'leases',
    kind: 'Lease',
    statusSubresource: false,
  },
];

/** The parts of an apiextensions.k8s.io/v1 CustomResourceDefinition this server reads. */
export interface CustomResourceDefinition {
  readonly spec: {
    readonly group: string;
    readonly names: { readonly plural: string; readonly kind: string };
    readonly versions: readonly {
      readonly name: string;
      readonly served: boolean;
      readonly subresources?: { readonly status?: object };
    }[];
  };
}

export function typesOfCrd(crd: CustomResourceDefinition): ResourceType[] {
  return crd.spec.versions
    .filter((version) => version.served)
    .map((version) => ({
      group: crd.spec.group,
      version: version.name,
      plural: crd.spec.names.plural,
      kind: crd.spec.names.kind,
      statusSubresource: version.subresources?.status !== undefined,
    }));
}

export function apiVersionOf(type: ResourceType): string {
  return type.group === '' ? type.version : `${type.group}/${type.version}`;
}
