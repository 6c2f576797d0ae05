// NetworkPolicies between client-node's objects and @catmesh/netpol's model, which computes the
// partition's policy. netpol's parseManifests reads manifest text and, being a linter, refuses a
// named port that no workload it was given declares; the API has already admitted these objects
// (a named port may well belong to a pod elsewhere), so they are converted field by field here,
// into the same shape parseManifests produces. client-node names `from` `_from`: its serializer
// drops a plain `from` key, so objects sent must be built in its field names too.
import type {
  LabelSelector,
  NetworkPolicy,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  Protocol,
} from '@catmesh/netpol';
import type {
  V1LabelSelector,
  V1NetworkPolicy,
  V1NetworkPolicyPeer,
  V1NetworkPolicyPort,
  V1ObjectMeta,
} from '@kubernetes/client-node';

type Requirement = NonNullable<LabelSelector['matchExpressions']>[number];

const OPERATORS: readonly string[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];
const PROTOCOLS: readonly string[] = ['TCP', 'UDP', 'SCTP'];

/** The policy as the API served it, in netpol's model; `namespace` is the one it was listed in. */
export function policyModel(object: V1NetworkPolicy, namespace: string): NetworkPolicy {
  const name = object.metadata?.name ?? '';
  const fail = (path: string, problem: string): never => {
    throw new Error(`networkpolicies/${name}: ${path}: ${problem}`);
  };
  const spec = object.spec ?? fail('spec', 'missing');
  const policyTypes = (
    spec.policyTypes ?? ['Ingress', ...(spec.egress === undefined ? [] : ['Egress'])]
  ).map((type, i) =>
    type === 'Ingress' || type === 'Egress'
      ? type
      : fail(`spec.policyTypes[${i}]`, `${type} is neither Ingress nor Egress`),
  );
  const selector = (value: V1LabelSelector | undefined, path: string): LabelSelector => {
    const matchExpressions = (value?.matchExpressions ?? []).map((e, i): Requirement => ({
      key: e.key,
      operator: OPERATORS.includes(e.operator)
        ? (e.operator as Requirement['operator'])
        : fail(`${path}.matchExpressions[${i}].operator`, `unknown operator ${e.operator}`),
      ...(e.values !== undefined && e.values.length > 0 && { values: e.values }),
    }));
    return {
      matchLabels: value?.matchLabels ?? {},
      ...(matchExpressions.length > 0 && { matchExpressions }),
    };
  };
  const peer = (value: V1NetworkPolicyPeer, path: string): PolicyPeer => ({
    ...(value.podSelector !== undefined && {
      podSelector: selector(value.podSelector, `${path}.podSelector`),
    }),
    ...(value.namespaceSelector !== undefined && {
      namespaceSelector: selector(value.namespaceSelector, `${path}.namespaceSelector`),
    }),
    ...(value.ipBlock !== undefined && {
      ipBlock: {
        cidr: value.ipBlock.cidr,
        ...(value.ipBlock.except !== undefined &&
          value.ipBlock.except.length > 0 && { except: value.ipBlock.except }),
      },
    }),
  });
  const port = (value: V1NetworkPolicyPort, path: string): PolicyPort => ({
    protocol: PROTOCOLS.includes(value.protocol ?? 'TCP')
      ? ((value.protocol ?? 'TCP') as Protocol)
      : fail(`${path}.protocol`, `unknown protocol ${value.protocol}`),
    ...(value.port !== undefined && { port: value.port }),
    ...(value.endPort !== undefined && { endPort: value.endPort }),
  });
  const rules = (
    list: readonly { peers?: V1NetworkPolicyPeer[]; ports?: V1NetworkPolicyPort[] }[],
    path: string,
    field: string,
  ): PolicyRule[] =>
    list.map((rule, i) => ({
      peers: (rule.peers ?? []).map((p, j) => peer(p, `${path}[${i}].${field}[${j}]`)),
      ports: (rule.ports ?? []).map((p, j) => port(p, `${path}[${i}].ports[${j}]`)),
    }));
  return {
    name,
    namespace: object.metadata?.namespace ?? namespace,
    podSelector: selector(spec.podSelector, 'spec.podSelector'),
    policyTypes,
    ingress: rules(
      (spec.ingress ?? []).map((rule) => ({ peers: rule._from, ports: rule.ports })),
      'spec.ingress',
      'from',
    ),
    egress: rules(
      (spec.egress ?? []).map((rule) => ({ peers: rule.to, ports: rule.ports })),
      'spec.egress',
      'to',
    ),
  };
}

/** netpol's policy as an object to create, with the given metadata (name and namespace its own). */
export function policyObject(policy: NetworkPolicy, metadata: V1ObjectMeta): V1NetworkPolicy {
  // An empty list of peers or ports means "all" in the model and in the API alike: left out, as
  // policyManifest leaves it out.
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { ...metadata, name: policy.name, namespace: policy.namespace },
    spec: {
      podSelector: selectorObject(policy.podSelector),
      policyTypes: [...policy.policyTypes],
      ingress: policy.ingress.map((rule) => ({
        ...(given(rule.peers) && { _from: rule.peers.map(peerObject) }),
        ...(given(rule.ports) && { ports: rule.ports.map((port) => ({ ...port })) }),
      })),
      egress: policy.egress.map((rule) => ({
        ...(given(rule.peers) && { to: rule.peers.map(peerObject) }),
        ...(given(rule.ports) && { ports: rule.ports.map((port) => ({ ...port })) }),
      })),
    },
  };
}

function given<T>(list: readonly T[] | undefined): list is readonly T[] {
  return list !== undefined && list.length > 0;
}

function peerObject(peer: PolicyPeer): V1NetworkPolicyPeer {
  return {
    ...(peer.podSelector && { podSelector: selectorObject(peer.podSelector) }),
    ...(peer.namespaceSelector && { namespaceSelector: selectorObject(peer.namespaceSelector) }),
    ...(peer.ipBlock && {
      ipBlock: {
        cidr: peer.ipBlock.cidr,
        ...(peer.ipBlock.except && { except: [...peer.ipBlock.except] }),
      },
    }),
  };
}

function selectorObject(selector: LabelSelector): V1LabelSelector {
  return {
    ...(selector.matchLabels && { matchLabels: { ...selector.matchLabels } }),
    ...(selector.matchExpressions && {
      matchExpressions: selector.matchExpressions.map((e) => ({
        key: e.key,
        operator: e.operator,
        ...(e.values && { values: [...e.values] }),
      })),
    }),
  };
}
