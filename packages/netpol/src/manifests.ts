// Rendered manifests (`helm template` output, a directory of files) into the evaluator's model.
// A NetworkPolicy is checked field by field against networking.k8s.io/v1: a misspelt field is
// an error here, where the API server would drop it silently and the policy would allow more
// (or less) than it says. Every error names the source, the document and the field.
import { ipv4CidrProblem } from './cidr.js';
import type {
  Cluster,
  ContainerPort,
  Direction,
  IpBlock,
  LabelSelector,
  LabelSelectorRequirement,
  NetworkPolicy,
  Pod,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  Protocol,
} from './model.js';
import { parseAllDocuments } from 'yaml';

export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** One text of manifests and where it came from (a file name, or `-` for stdin). */
export interface ManifestSource {
  readonly name: string;
  readonly text: string;
}

type Json = Record<string, unknown>;

/** Where a value is, for messages: `manifests.yaml, document 3 (NetworkPolicy x): spec.ingress`. */
class Place {
  constructor(
    private readonly document: string,
    private readonly path: string,
  ) {}

  at(field: string | number): Place {
    const step = typeof field === 'number' ? `[${field}]` : this.path ? `.${field}` : field;
    return new Place(this.document, `${this.path}${step}`);
  }

  error(problem: string): ManifestError {
    return new ManifestError(`${this.document}: ${this.path || '(document)'}: ${problem}`);
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: unknown, place: Place, fields: readonly string[]): Json {
  if (!isObject(value)) throw place.error('expected an object');
  for (const key of Object.keys(value)) {
    if (!fields.includes(key))
      throw place.at(key).error(`unknown field (known: ${fields.join(', ')})`);
  }
  return value;
}

function list(value: unknown, place: Place): unknown[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw place.error('expected a list');
  return value;
}

function text(value: unknown, place: Place): string {
  if (typeof value !== 'string' || value === '') throw place.error('expected a non-empty string');
  return value;
}

function labels(value: unknown, place: Place): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isObject(value)) throw place.error('expected a map of labels');
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') throw place.at(key).error('a label value must be a string');
  }
  return value as Record<string, string>;
}

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
const PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

function selector(value: unknown, place: Place): LabelSelector {
  if (value === undefined || value === null) return {};
  const raw = object(value, place, ['matchLabels', 'matchExpressions']);
  const matchExpressions = list(raw['matchExpressions'], place.at('matchExpressions')).map(
    (entry, i): LabelSelectorRequirement => {
      const at = place.at('matchExpressions').at(i);
      const e = object(entry, at, ['key', 'operator', 'values']);
      const operator = e['operator'];
      if (!OPERATORS.includes(operator as (typeof OPERATORS)[number])) {
        throw at.at('operator').error(`expected one of ${OPERATORS.join(', ')}`);
      }
      const values = list(e['values'], at.at('values')).map((v, j) =>
        text(v, at.at('values').at(j)),
      );
      const needsValues = operator === 'In' || operator === 'NotIn';
      if (needsValues !== values.length > 0) {
        throw at
          .at('values')
          .error(
            needsValues ? `${String(operator)} needs values` : `${String(operator)} takes none`,
          );
      }
      return {
        key: text(e['key'], at.at('key')),
        operator: operator as LabelSelectorRequirement['operator'],
        ...(values.length > 0 && { values }),
      };
    },
  );
  return {
    matchLabels: labels(raw['matchLabels'], place.at('matchLabels')),
    ...(matchExpressions.length > 0 && { matchExpressions }),
  };
}

function protocol(value: unknown, place: Place): Protocol {
  if (value === undefined) return 'TCP';
  if (!PROTOCOLS.includes(value as Protocol))
    throw place.error(`expected one of ${PROTOCOLS.join(', ')}`);
  return value as Protocol;
}

function portNumber(value: unknown, place: Place): number {
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) {
    throw place.error('expected a port number 1-65535');
  }
  return value as number;
}

function policyPort(value: unknown, place: Place): PolicyPort {
  const raw = object(value, place, ['protocol', 'port', 'endPort']);
  const port = raw['port'];
  const endPort = raw['endPort'];
  if (endPort !== undefined) {
    if (typeof port !== 'number') throw place.at('endPort').error('needs a numeric port');
    if (portNumber(endPort, place.at('endPort')) < port) {
      throw place.at('endPort').error('must not be below port');
    }
  }
  return {
    protocol: protocol(raw['protocol'], place.at('protocol')),
    ...(port !== undefined && {
      port:
        typeof port === 'string'
          ? text(port, place.at('port'))
          : portNumber(port, place.at('port')),
    }),
    ...(endPort !== undefined && { endPort: endPort as number }),
  };
}

function ipBlock(value: unknown, place: Place): IpBlock {
  const raw = object(value, place, ['cidr', 'except']);
  const cidr = text(raw['cidr'], place.at('cidr'));
  const problem = ipv4CidrProblem(cidr);
  if (problem) throw place.at('cidr').error(problem);
  const except = list(raw['except'], place.at('except')).map((e, i) => {
    const entry = text(e, place.at('except').at(i));
    const bad = ipv4CidrProblem(entry);
    if (bad) throw place.at('except').at(i).error(bad);
    return entry;
  });
  return { cidr, ...(except.length > 0 && { except }) };
}

function peer(value: unknown, place: Place): PolicyPeer {
  const raw = object(value, place, ['podSelector', 'namespaceSelector', 'ipBlock']);
  if (raw['ipBlock'] !== undefined && Object.keys(raw).length > 1) {
    throw place.error('an ipBlock peer takes no selectors');
  }
  if (Object.keys(raw).length === 0) throw place.error('a peer needs a selector or an ipBlock');
  return {
    ...(raw['podSelector'] !== undefined && {
      podSelector: selector(raw['podSelector'], place.at('podSelector')),
    }),
    ...(raw['namespaceSelector'] !== undefined && {
      namespaceSelector: selector(raw['namespaceSelector'], place.at('namespaceSelector')),
    }),
    ...(raw['ipBlock'] !== undefined && { ipBlock: ipBlock(raw['ipBlock'], place.at('ipBlock')) }),
  };
}

function rules(value: unknown, place: Place, peersField: 'from' | 'to'): PolicyRule[] {
  return list(value, place).map((entry, i) => {
    const at = place.at(i);
    const raw = object(entry, at, [peersField, 'ports']);
    return {
      peers: list(raw[peersField], at.at(peersField)).map((p, j) =>
        peer(p, at.at(peersField).at(j)),
      ),
      ports: list(raw['ports'], at.at('ports')).map((p, j) => policyPort(p, at.at('ports').at(j))),
    };
  });
}

function networkPolicy(raw: Json, place: Place, namespace: string): NetworkPolicy {
  object(raw, place, ['apiVersion', 'kind', 'metadata', 'spec']);
  if (raw['apiVersion'] !== 'networking.k8s.io/v1') {
    throw place.at('apiVersion').error('expected networking.k8s.io/v1');
  }
  const metadata = raw['metadata'] as Json;
  const spec = object(raw['spec'], place.at('spec'), [
    'podSelector',
    'policyTypes',
    'ingress',
    'egress',
  ]);
  if (spec['podSelector'] === undefined)
    throw place.at('spec').at('podSelector').error('is required');
  const declared = spec['policyTypes'];
  const policyTypes: Direction[] =
    declared === undefined
      ? ['Ingress', ...(spec['egress'] !== undefined ? (['Egress'] as const) : [])]
      : list(declared, place.at('spec').at('policyTypes')).map((t, i) => {
          if (t !== 'Ingress' && t !== 'Egress') {
            throw place.at('spec').at('policyTypes').at(i).error('expected Ingress or Egress');
          }
          return t;
        });
  return {
    name: String(metadata['name']),
    namespace: typeof metadata['namespace'] === 'string' ? metadata['namespace'] : namespace,
    podSelector: selector(spec['podSelector'], place.at('spec').at('podSelector')),
    policyTypes,
    ingress: rules(spec['ingress'], place.at('spec').at('ingress'), 'from'),
    egress: rules(spec['egress'], place.at('spec').at('egress'), 'to'),
  };
}

/** Where each workload kind keeps its pod template. */
const TEMPLATE_PATHS: Readonly<Record<string, readonly string[]>> = {
  Pod: [],
  Deployment: ['spec', 'template'],
  StatefulSet: ['spec', 'template'],
  DaemonSet: ['spec', 'template'],
  ReplicaSet: ['spec', 'template'],
  Job: ['spec', 'template'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template'],
};

function workloadPod(raw: Json, kind: string, place: Place, namespace: string): Pod | undefined {
  let template: unknown = raw;
  let at = place;
  for (const step of TEMPLATE_PATHS[kind] ?? []) {
    template = isObject(template) ? template[step] : undefined;
    at = at.at(step);
  }
  if (!isObject(template)) throw at.error('expected a pod template');
  const metadata = isObject(template['metadata']) ? template['metadata'] : {};
  const podLabels = labels(metadata['labels'], at.at('metadata').at('labels'));
  const spec = isObject(template['spec']) ? template['spec'] : {};
  const ports = list(spec['containers'], at.at('spec').at('containers')).flatMap((c, i) =>
    list(
      isObject(c) ? c['ports'] : undefined,
      at.at('spec').at('containers').at(i).at('ports'),
    ).map((p, j): ContainerPort => {
      const portAt = at.at('spec').at('containers').at(i).at('ports').at(j);
      if (!isObject(p)) throw portAt.error('expected an object');
      return {
        ...(typeof p['name'] === 'string' && { name: p['name'] }),
        port: portNumber(p['containerPort'], portAt.at('containerPort')),
        protocol: protocol(p['protocol'], portAt.at('protocol')),
      };
    }),
  );
  const objectMetadata = raw['metadata'] as Json;
  return {
    workload: podLabels['app.kubernetes.io/name'] ?? String(objectMetadata['name']),
    namespace:
      typeof objectMetadata['namespace'] === 'string' ? objectMetadata['namespace'] : namespace,
    labels: podLabels,
    ports,
  };
}

/**
 * The cluster the manifests describe. `namespace` is where objects without one go (`helm
 * template` leaves it out): what `--namespace` says at install.
 */
export function parseManifests(sources: readonly ManifestSource[], namespace: string): Cluster {
  const pods: Pod[] = [];
  const policies: NetworkPolicy[] = [];
  const namespaces: { name: string; labels: Record<string, string> }[] = [];
  const namedPortUses: { place: Place; name: string }[] = [];
  for (const source of sources) {
    const documents = parseAllDocuments(source.text);
    const all = Array.isArray(documents) ? documents : [documents];
    all.forEach((document, index) => {
      const where = `${source.name}, document ${index + 1}`;
      if (document.errors.length > 0) {
        throw new ManifestError(
          `${where}: not YAML: ${document.errors[0]!.message.split('\n')[0]}`,
        );
      }
      const raw: unknown = document.toJS();
      if (raw === null || raw === undefined) return;
      if (!isObject(raw)) throw new Place(where, '').error('expected a Kubernetes object');
      const kind = raw['kind'];
      const metadata = raw['metadata'];
      if (typeof kind !== 'string') throw new Place(where, 'kind').error('expected a string');
      if (!isObject(metadata) || typeof metadata['name'] !== 'string') {
        throw new Place(where, 'metadata.name').error('expected a string');
      }
      const place = new Place(`${where} (${kind} ${metadata['name']})`, '');
      if (kind === 'NetworkPolicy') {
        const policy = networkPolicy(raw, place, namespace);
        policies.push(policy);
        for (const [direction, rulesOf] of [
          ['ingress', policy.ingress],
          ['egress', policy.egress],
        ] as const) {
          rulesOf.forEach((rule, i) =>
            rule.ports?.forEach((port, j) => {
              if (typeof port.port === 'string') {
                const at = place.at('spec').at(direction).at(i).at('ports').at(j).at('port');
                namedPortUses.push({ place: at, name: port.port });
              }
            }),
          );
        }
      } else if (kind === 'Namespace') {
        namespaces.push({
          name: metadata['name'],
          labels: labels(metadata['labels'], place.at('metadata').at('labels')),
        });
      } else if (kind in TEMPLATE_PATHS) {
        const pod = workloadPod(raw, kind, place, namespace);
        if (pod) pods.push(pod);
      }
    });
  }
  const declaredNames = new Set(pods.flatMap((pod) => pod.ports.flatMap((p) => p.name ?? [])));
  for (const use of namedPortUses) {
    if (!declaredNames.has(use.name)) {
      throw use.place.error(
        `no container port of any workload is named ${JSON.stringify(use.name)}`,
      );
    }
  }
  return { pods, namespaces, policies };
}
