// NetworkPolicies enforced in the rehearsal's pods the way kind's kube-network-policies and
// Calico enforce them: each pod's namespace gets one nftables table that judges a connection
// when it is set up (conntrack state `new`) and lets established and related packets through
// before any policy rule. So a policy that lands later never cuts a connection already open:
// the trap the "a NetworkPolicy is not a partition" experiment shows. Traffic from and to the
// node (the root namespace: the kubelet's probes, `kubectl port-forward`) is always allowed, as
// the Kubernetes documentation says of a pod's own node.
//
// This compiles the policies into address and port sets per pod, as an implementation does;
// `catmesh netpol` evaluates them per connection. The rehearsal's probe compares the two.
import { isIPv4 } from 'node:net';
import {
  labelSelectorMatches,
  type Direction,
  type NetworkPolicy,
  type PolicyPeer,
  type PolicyPort,
} from '@catmesh/netpol';

/** A running pod as the enforcer sees it: where it is, its labels and its named ports. */
export interface EnforcedPod {
  readonly name: string;
  readonly namespace: string;
  readonly ip: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ports: readonly {
    readonly name?: string;
    readonly port: number;
    readonly protocol: string;
  }[];
}

export const NETPOL_TABLE = 'catmesh_netpol';

function selecting(
  policies: readonly NetworkPolicy[],
  pod: EnforcedPod,
  direction: Direction,
): NetworkPolicy[] {
  return policies.filter(
    (policy) =>
      policy.namespace === pod.namespace &&
      policy.policyTypes.includes(direction) &&
      labelSelectorMatches(policy.podSelector, pod.labels),
  );
}

/** The pods a peer names; ipBlocks are returned as CIDRs with their exceptions. */
function peerPods(
  peer: PolicyPeer,
  policyNamespace: string,
  pods: readonly EnforcedPod[],
): EnforcedPod[] {
  if (peer.ipBlock) return [];
  return pods.filter((pod) => {
    const namespaceOk = peer.namespaceSelector
      ? labelSelectorMatches(peer.namespaceSelector, {
          'kubernetes.io/metadata.name': pod.namespace,
        })
      : pod.namespace === policyNamespace;
    return namespaceOk && labelSelectorMatches(peer.podSelector ?? {}, pod.labels);
  });
}

/**
 * A rule's ports as nft matches against `pod` (the destination); a named port the pod lacks
 * matches nothing there, so the rule contributes nothing for that pod.
 */
function portMatches(
  ports: readonly PolicyPort[] | undefined,
  destination: EnforcedPod | undefined,
): string[] {
  if (!ports || ports.length === 0) return [''];
  return ports.flatMap((entry) => {
    const protocol = (entry.protocol ?? 'TCP').toLowerCase();
    if (entry.port === undefined) return [`meta l4proto ${protocol}`];
    if (typeof entry.port === 'number') {
      const range = entry.endPort !== undefined ? `${entry.port}-${entry.endPort}` : entry.port;
      return [`${protocol} dport ${range}`];
    }
    const named = destination?.ports.find(
      (p) => p.name === entry.port && p.protocol.toLowerCase() === protocol,
    );
    return named ? [`${protocol} dport ${named.port}`] : [];
  });
}

function ipBlockMatch(peer: PolicyPeer, side: 'saddr' | 'daddr') {
  const block = peer.ipBlock!;
  const except = block.except ?? [];
  const family = isIPv4(block.cidr.split('/')[0] ?? '') ? 'ip' : 'ip6';
  const exclusion = except.length > 0 ? ` ${family} ${side} != { ${except.join(', ')} }` : '';
  return `${family} ${side} ${block.cidr}${exclusion}`;
}

function allowRules(
  pod: EnforcedPod,
  direction: Direction,
  policies: readonly NetworkPolicy[],
  pods: readonly EnforcedPod[],
): string[] | 'open' {
  const chosen = selecting(policies, pod, direction);
  if (chosen.length === 0) return 'open';
  const rules: string[] = [];
  for (const policy of chosen) {
    const policyNamespace = policy.namespace;
    const entries = direction === 'Ingress' ? policy.ingress : policy.egress;
    for (const { peers, ports } of entries) {
      const side = direction === 'Ingress' ? 'saddr' : 'daddr';
      if (!peers || peers.length === 0) {
        // Any peer: an ingress rule's named ports are this pod's; an egress rule's name the
        // destination's, which can be any pod here, so each pod's port of that name counts.
        const destinations = direction === 'Ingress' ? [pod] : [...pods, undefined];
        for (const destination of destinations) {
          const address =
            direction === 'Egress' && destination ? `ip daddr ${destination.ip} ` : '';
          for (const port of portMatches(ports, destination)) {
            rules.push(`${address}${port} accept`.replace(/ +/g, ' ').trim());
          }
        }
        continue;
      }
      for (const peer of peers) {
        if (peer.ipBlock) {
          for (const port of portMatches(ports, direction === 'Ingress' ? pod : undefined)) {
            rules.push(`${ipBlockMatch(peer, side)} ${port} accept`.replace(/ +/g, ' '));
          }
          continue;
        }
        for (const other of peerPods(peer, policyNamespace, pods)) {
          const destination = direction === 'Ingress' ? pod : other;
          for (const port of portMatches(ports, destination)) {
            rules.push(`ip ${side} ${other.ip} ${port} accept`.replace(/ +/g, ' ').trim());
          }
        }
      }
    }
  }
  return rules;
}

function chain(hook: 'input' | 'output', node: string, rules: string[] | 'open'): string {
  const device = hook === 'input' ? 'iif' : 'oif';
  const nodeSide = hook === 'input' ? 'saddr' : 'daddr';
  const body =
    rules === 'open'
      ? []
      : [
          'ct state established,related accept',
          `${device} lo accept`,
          `ip ${nodeSide} ${node} accept`,
          ...rules.map((rule) => `ct state new ${rule}`),
          'counter drop',
        ];
  return [
    `  chain ${hook} {`,
    `    type filter hook ${hook} priority filter; policy accept;`,
    ...body.map((line) => `    ${line}`),
    '  }',
  ].join('\n');
}

/**
 * The nft script that replaces the pod's policy table in one transaction: `nft -f` applies all
 * of it or none, so there is no moment without rules.
 */
export function policyTableScript(
  pod: EnforcedPod,
  pods: readonly EnforcedPod[],
  policies: readonly NetworkPolicy[],
  nodeAddress: string,
): string {
  const ingress = allowRules(pod, 'Ingress', policies, pods);
  const egress = allowRules(pod, 'Egress', policies, pods);
  return [
    `table inet ${NETPOL_TABLE} {}`,
    `delete table inet ${NETPOL_TABLE}`,
    `table inet ${NETPOL_TABLE} {`,
    chain('input', nodeAddress, ingress),
    chain('output', nodeAddress, egress),
    '}',
    '',
  ].join('\n');
}
