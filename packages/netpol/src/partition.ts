// A partition made of NetworkPolicies. Policies only ever add permissions, so a partition cannot
// be one more policy on top of the chart's: the chart's allow policies select only pods WITHOUT
// the partition label, and a partition moves its pod onto a policy of its own by labelling it.
// That policy is the pod's allow rules as they were, with the peers on the other side taken out
// of every rule, so exactly the connections between the pod and those peers are refused (the
// pod's side of a connection is enough to refuse it) and everything else stays as it was.
//
// The switch is the label: create the policy, then label the pod (and its peers); to heal,
// remove the labels, then the policy. What it cannot do is what no NetworkPolicy does: cut a
// connection that is already open (see NOT_MODELLED).
import { labelSelectorMatches } from './label-selector.js';
import type {
  Direction,
  Labels,
  LabelSelector,
  NetworkPolicy,
  PolicyPeer,
  PolicyRule,
} from './model.js';

/** On a partitioned pod: the id of its partition. The chart's allow policies skip such pods. */
export const PARTITION_LABEL = 'chaos.catmesh.dev/partition';
/** On the pods across a partition from it: the same id. */
export const PARTITION_PEER_LABEL = 'chaos.catmesh.dev/partition-peer';

export class PartitionError extends Error {
  override readonly name = 'PartitionError';
}

export interface PodPartition {
  /**
   * The partition's id, the value of both labels: one per partition, shared by all the pods it
   * holds, so a valid label value (63 characters at most).
   */
  readonly id: string;
  /** The policy's name: one policy per partitioned pod. */
  readonly policyName: string;
  readonly namespace: string;
  /** The partitioned pod's labels now, before the partition label is set. */
  readonly podLabels: Labels;
  /** `one-way`: only connections the pod opens to its peers are refused. */
  readonly direction: 'both' | 'one-way';
}

const LABEL_VALUE = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;

/** A label selector requirement that excludes the pods across partition `id`. */
function notAcross(id: string): LabelSelector['matchExpressions'] & object {
  return [{ key: PARTITION_PEER_LABEL, operator: 'NotIn', values: [id] }];
}

function withoutPeers(peer: PolicyPeer, id: string): PolicyPeer {
  // An ipBlock names addresses outside the cluster: no pod across the partition is in it.
  if (peer.ipBlock) return peer;
  const podSelector = peer.podSelector ?? {};
  return {
    ...peer,
    podSelector: {
      ...podSelector,
      matchExpressions: [...(podSelector.matchExpressions ?? []), ...notAcross(id)],
    },
  };
}

function cutRules(rules: readonly PolicyRule[], id: string): PolicyRule[] {
  return rules.map((rule) => ({
    ...rule,
    // A rule open to every peer becomes "every pod but those across", plus every address
    // outside the cluster, which the open rule allowed too.
    peers:
      rule.peers && rule.peers.length > 0
        ? rule.peers.map((peer) => withoutPeers(peer, id))
        : [
            { namespaceSelector: {}, podSelector: { matchExpressions: notAcross(id) } },
            { ipBlock: { cidr: '0.0.0.0/0' } },
          ],
  }));
}

/**
 * The policy that holds a partitioned pod: the rules of every policy that selects it now, minus
 * the peers across the partition. It selects the pod by all its labels and the partition's, so
 * that two pods of one partition with different rules each keep their own.
 */
export function partitionPolicy(
  policies: readonly NetworkPolicy[],
  partition: PodPartition,
): NetworkPolicy {
  const { id, policyName, namespace, podLabels, direction } = partition;
  if (!LABEL_VALUE.test(id)) {
    throw new PartitionError(
      `partition id ${JSON.stringify(id)} is not a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)`,
    );
  }
  if (podLabels[PARTITION_LABEL] !== undefined) {
    throw new PartitionError(
      `the pod is already in partition ${podLabels[PARTITION_LABEL]}: one partition at a time`,
    );
  }
  const selecting = policies.filter(
    (p) => p.namespace === namespace && labelSelectorMatches(p.podSelector, podLabels),
  );
  const rulesFor = (type: Direction): PolicyRule[] => {
    const of = selecting.filter((p) => p.policyTypes.includes(type));
    // An open direction has no rule to take the peers out of; "everything but them" would
    // need the peers' addresses, which change when a pod is recreated.
    if (of.length === 0) {
      throw new PartitionError(
        `no NetworkPolicy selects the pod for ${type.toLowerCase()}, so it is open that way and a policy cannot cut it (are network policies switched off?)`,
      );
    }
    const rules = of.flatMap((p) => (type === 'Ingress' ? p.ingress : p.egress));
    return type === 'Ingress' && direction === 'one-way' ? rules : cutRules(rules, id);
  };
  return {
    name: policyName,
    namespace,
    podSelector: { matchLabels: { ...podLabels, [PARTITION_LABEL]: id } },
    policyTypes: ['Ingress', 'Egress'],
    ingress: rulesFor('Ingress'),
    egress: rulesFor('Egress'),
  };
}

/** The policy as a `networking.k8s.io/v1` object, to apply or to render. */
export function policyManifest(
  policy: NetworkPolicy,
  labels: Labels = {},
): Record<string, unknown> {
  const rules = (list: readonly PolicyRule[], field: 'from' | 'to') =>
    list.map((rule) => ({
      ...(rule.peers && rule.peers.length > 0 && { [field]: rule.peers }),
      ...(rule.ports && rule.ports.length > 0 && { ports: rule.ports }),
    }));
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name: policy.name,
      namespace: policy.namespace,
      ...(Object.keys(labels).length > 0 && { labels }),
    },
    spec: {
      podSelector: policy.podSelector,
      policyTypes: policy.policyTypes,
      ingress: rules(policy.ingress, 'from'),
      egress: rules(policy.egress, 'to'),
    },
  };
}
