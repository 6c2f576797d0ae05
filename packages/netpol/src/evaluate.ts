// Whether one connection is allowed, by the semantics of the Kubernetes NetworkPolicy API (and as
// Cyclonus's simulated truth table computes them): for each direction, a pod that no policy of
// that direction selects is not isolated and lets everything through; an isolated pod lets a
// connection through when some selecting policy has a rule matching the peer and the port. A
// connection needs both: the source's egress and the destination's ingress.
import { ipv4InCidr } from './cidr.js';
import { labelSelectorMatches } from './label-selector.js';
import type {
  Cluster,
  Direction,
  Endpoint,
  Labels,
  NetworkPolicy,
  Pod,
  PolicyPeer,
  PolicyPort,
  Protocol,
} from './model.js';

/** A destination port: its number and protocol, and its name when a container port has one. */
export interface TargetPort {
  readonly port: number;
  readonly protocol: Protocol;
}

/** One side's verdict, with the policies that decided it (empty: the pod is not isolated). */
export interface SideVerdict {
  readonly allowed: boolean;
  /** Policies selecting the pod for this direction; none means not isolated. */
  readonly selectedBy: readonly string[];
  /** The selecting policies with a rule that matched. */
  readonly allowedBy: readonly string[];
}

export interface ConnectionVerdict {
  readonly allowed: boolean;
  /** Absent when the source is outside the cluster (no policy governs its egress). */
  readonly egress?: SideVerdict;
  /** Absent when the destination is outside the cluster. */
  readonly ingress?: SideVerdict;
}

function namespaceLabels(cluster: Cluster, name: string): Labels {
  const declared = cluster.namespaces.find((n) => n.name === name);
  // The API sets this label on every namespace; a namespace the manifests do not declare has it.
  return { ...declared?.labels, 'kubernetes.io/metadata.name': name };
}

function peerMatches(
  cluster: Cluster,
  policy: NetworkPolicy,
  peer: PolicyPeer,
  endpoint: Endpoint,
): boolean {
  if (peer.ipBlock) {
    // Pod addresses are not modelled: an ipBlock matches addresses outside the cluster only.
    if (endpoint.kind !== 'external') return false;
    const { cidr, except = [] } = peer.ipBlock;
    return (
      ipv4InCidr(endpoint.address, cidr) && !except.some((e) => ipv4InCidr(endpoint.address, e))
    );
  }
  if (endpoint.kind !== 'pod') return false;
  const { pod } = endpoint;
  const namespaceOk = peer.namespaceSelector
    ? labelSelectorMatches(peer.namespaceSelector, namespaceLabels(cluster, pod.namespace))
    : pod.namespace === policy.namespace;
  return namespaceOk && labelSelectorMatches(peer.podSelector ?? {}, pod.labels);
}

function portMatches(entry: PolicyPort, port: TargetPort, destination: Endpoint): boolean {
  if ((entry.protocol ?? 'TCP') !== port.protocol) return false;
  if (entry.port === undefined) return true;
  if (typeof entry.port === 'number') {
    return entry.endPort === undefined
      ? port.port === entry.port
      : port.port >= entry.port && port.port <= entry.endPort;
  }
  // A named port is the destination pod's container port of that name, in either direction.
  if (destination.kind !== 'pod') return false;
  return destination.pod.ports.some(
    (p) => p.name === entry.port && p.protocol === port.protocol && p.port === port.port,
  );
}

function side(
  cluster: Cluster,
  direction: Direction,
  pod: Pod,
  peer: Endpoint,
  port: TargetPort,
  destination: Endpoint,
): SideVerdict {
  const selecting = cluster.policies.filter(
    (policy) =>
      policy.namespace === pod.namespace &&
      policy.policyTypes.includes(direction) &&
      labelSelectorMatches(policy.podSelector, pod.labels),
  );
  if (selecting.length === 0) return { allowed: true, selectedBy: [], allowedBy: [] };
  const allowedBy = selecting.filter((policy) =>
    (direction === 'Ingress' ? policy.ingress : policy.egress).some(
      (rule) =>
        (!rule.peers?.length || rule.peers.some((p) => peerMatches(cluster, policy, p, peer))) &&
        (!rule.ports?.length || rule.ports.some((p) => portMatches(p, port, destination))),
    ),
  );
  return {
    allowed: allowedBy.length > 0,
    selectedBy: selecting.map((p) => `${p.namespace}/${p.name}`),
    allowedBy: allowedBy.map((p) => `${p.namespace}/${p.name}`),
  };
}

/** Whether `source` may open a connection to `destination` on `port`, and why. */
export function evaluateConnection(
  cluster: Cluster,
  source: Endpoint,
  destination: Endpoint,
  port: TargetPort,
): ConnectionVerdict {
  const egress =
    source.kind === 'pod'
      ? side(cluster, 'Egress', source.pod, destination, port, destination)
      : undefined;
  const ingress =
    destination.kind === 'pod'
      ? side(cluster, 'Ingress', destination.pod, source, port, destination)
      : undefined;
  return {
    allowed: (egress?.allowed ?? true) && (ingress?.allowed ?? true),
    ...(egress && { egress }),
    ...(ingress && { ingress }),
  };
}
