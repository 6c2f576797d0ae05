// What the evaluator works on: pods (from the workloads' pod templates), namespaces and
// NetworkPolicies, in the shape of the networking.k8s.io/v1 API, already validated
// (manifests.ts), so that a wrong state (an unknown operator, a port without a number or name)
// cannot reach the evaluator.

export type Labels = Readonly<Record<string, string>>;

export interface LabelSelectorRequirement {
  readonly key: string;
  readonly operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  readonly values?: readonly string[];
}

export interface LabelSelector {
  readonly matchLabels?: Labels;
  readonly matchExpressions?: readonly LabelSelectorRequirement[];
}

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

export interface IpBlock {
  readonly cidr: string;
  readonly except?: readonly string[];
}

export interface PolicyPeer {
  readonly podSelector?: LabelSelector;
  readonly namespaceSelector?: LabelSelector;
  readonly ipBlock?: IpBlock;
}

export interface PolicyPort {
  readonly protocol?: Protocol;
  /** A number, or the name of a container port of the destination pod. */
  readonly port?: number | string;
  readonly endPort?: number;
}

export interface PolicyRule {
  /** `from` of an ingress rule, `to` of an egress rule; absent or empty: every peer. */
  readonly peers?: readonly PolicyPeer[];
  /** Absent or empty: every port. */
  readonly ports?: readonly PolicyPort[];
}

export type Direction = 'Ingress' | 'Egress';

export interface NetworkPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly podSelector: LabelSelector;
  /** As the API defaults them: Ingress, plus Egress when the spec has egress rules. */
  readonly policyTypes: readonly Direction[];
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

export interface ContainerPort {
  readonly name?: string;
  readonly port: number;
  readonly protocol: Protocol;
}

/** A pod as a workload's template makes it: every pod of one workload is alike. */
export interface Pod {
  /** The workload, by its app.kubernetes.io/name label (else the object's name). */
  readonly workload: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly ports: readonly ContainerPort[];
}

export interface Namespace {
  readonly name: string;
  readonly labels: Labels;
}

/** Everything one set of manifests says about the network. */
export interface Cluster {
  readonly pods: readonly Pod[];
  readonly namespaces: readonly Namespace[];
  readonly policies: readonly NetworkPolicy[];
}

/** Where a connection comes from or goes to: a pod, or an address outside the cluster. */
export type Endpoint =
  | { readonly kind: 'pod'; readonly pod: Pod }
  | { readonly kind: 'external'; readonly address: string };
