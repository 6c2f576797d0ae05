// A small catmesh release in the fake API server, put in its store as the chart and the kubelet
// would leave it: running pods with their IPs and named ports, and NetworkPolicies written after
// helm/catmesh/templates/network-policies.yaml (default deny, then one allow policy per workload
// and direction that pass over partitioned pods), plus another application's policy on a named
// port no mesh pod declares. A ChaosExperiment from the library owns what a run creates.
import { fileURLToPath } from 'node:url';
import {
  EXPERIMENT_GROUP,
  EXPERIMENT_PLURAL,
  experimentCrd,
  readExperimentFile,
} from '@catmesh/chaos';
import { parseManifests, type NetworkPolicy } from '@catmesh/netpol';
import {
  builtInType,
  serviceAccountUser,
  startFakeApiServer,
  type CustomResourceDefinition,
  type FakeApiServer,
  type KubeObject,
  type ObjectInput,
  type ResourceType,
} from '@catmesh/testkit';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  NetworkingV1Api,
  type V1OwnerReference,
} from '@kubernetes/client-node';

export const NAMESPACE = 'catmesh';
export const SELECTOR = 'app.kubernetes.io/instance=catmesh';
export const PODS_TYPE = builtInType('', 'pods');
export const POLICIES_TYPE = builtInType('networking.k8s.io', 'networkpolicies');

const PORTS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'cat-feeder': { grpc: 50051, raft: 50052, admin: 50053, metrics: 9464 },
  orders: { grpc: 50061, admin: 50063, metrics: 9464 },
  inventory: { grpc: 50071, admin: 50073, metrics: 9464 },
  nats: { client: 4222, monitor: 8222 },
};

/** Name, service, IP: the pods of release `catmesh`. */
export const MESH_PODS: readonly (readonly [string, string, string])[] = [
  ['cat-feeder-0', 'cat-feeder', '10.244.0.10'],
  ['cat-feeder-1', 'cat-feeder', '10.244.0.11'],
  ['cat-feeder-2', 'cat-feeder', '10.244.0.12'],
  ['orders-5d8f7c9b4-x2k7p', 'orders', '10.244.0.20'],
  ['inventory-6c4d9f8b7-q9w3z', 'inventory', '10.244.0.30'],
  ['nats-0', 'nats', '10.244.0.40'],
];

function pod(name: string, service: string, ip: string, release = 'catmesh'): ObjectInput {
  return {
    metadata: {
      name,
      labels: {
        'app.kubernetes.io/name': service,
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/component': service,
      },
    },
    spec: {
      containers: [
        {
          name: service,
          image: 'catmesh:dev',
          ports: Object.entries(PORTS[service] ?? { http: 8080 }).map(([port, number]) => ({
            name: port,
            containerPort: number,
            protocol: 'TCP',
          })),
        },
      ],
    },
    status: { phase: 'Running', podIP: ip, podIPs: [{ ip }] },
  };
}

const allowTo = (to: string, from: readonly [string, string][]) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: `catmesh-allow-to-${to}` },
  spec: {
    podSelector: {
      matchLabels: { 'app.kubernetes.io/name': to, 'app.kubernetes.io/instance': 'catmesh' },
      matchExpressions: [{ key: 'chaos.catmesh.dev/partition', operator: 'DoesNotExist' }],
    },
    policyTypes: ['Ingress'],
    ingress: from.map(([source, port]) => ({
      from: [
        source === 'external'
          ? { ipBlock: { cidr: '0.0.0.0/0' } }
          : {
              podSelector: {
                matchLabels: {
                  'app.kubernetes.io/name': source,
                  'app.kubernetes.io/instance': 'catmesh',
                },
              },
            },
      ],
      ports: [{ protocol: 'TCP', port }],
    })),
  },
});

const allowFrom = (from: string, to: readonly [string, string][]) => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: `catmesh-allow-from-${from}` },
  spec: {
    podSelector: {
      matchLabels: { 'app.kubernetes.io/name': from, 'app.kubernetes.io/instance': 'catmesh' },
      matchExpressions: [{ key: 'chaos.catmesh.dev/partition', operator: 'DoesNotExist' }],
    },
    policyTypes: ['Egress'],
    egress: to.map(([destination, port]) => ({
      to: [
        {
          podSelector: {
            matchLabels: {
              'app.kubernetes.io/name': destination,
              'app.kubernetes.io/instance': 'catmesh',
            },
          },
        },
      ],
      ports: [{ protocol: 'TCP', port }],
    })),
  },
});

export const CHART_POLICIES: readonly ObjectInput[] = [
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'catmesh-default-deny' },
    spec: {
      podSelector: { matchLabels: { 'app.kubernetes.io/instance': 'catmesh' } },
      policyTypes: ['Ingress', 'Egress'],
      egress: [
        {
          to: [
            {
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
              podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
            },
          ],
          ports: [
            { protocol: 'UDP', port: 53 },
            { protocol: 'TCP', port: 53 },
          ],
        },
      ],
    },
  },
  allowTo('cat-feeder', [
    ['cat-feeder', 'raft'],
    ['orders', 'grpc'],
  ]),
  allowTo('inventory', [['orders', 'grpc']]),
  allowTo('nats', [
    ['orders', 'client'],
    ['inventory', 'client'],
    ['cat-feeder', 'client'],
  ]),
  allowTo('orders', [['external', 'grpc']]),
  allowFrom('cat-feeder', [
    ['cat-feeder', 'raft'],
    ['nats', 'client'],
  ]),
  allowFrom('orders', [
    ['inventory', 'grpc'],
    ['cat-feeder', 'grpc'],
    ['nats', 'client'],
  ]),
  allowFrom('inventory', [['nats', 'client']]),
];

/** Not the mesh's: a policy of another application in the namespace, on its own named port. */
const OTHER_APP_POLICY: ObjectInput = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'NetworkPolicy',
  metadata: { name: 'web-allow-http' },
  spec: {
    podSelector: { matchLabels: { 'app.kubernetes.io/name': 'web' } },
    policyTypes: ['Ingress'],
    ingress: [{ ports: [{ protocol: 'TCP', port: 'http' }] }],
  },
};

/** Everything the namespace's policies say, in netpol's model, read from manifests as the CLI reads them. */
export function manifestPolicies(): NetworkPolicy[] {
  const pods = [
    ...MESH_PODS.map(([name, service, ip]) => pod(name, service, ip)),
    pod('web-0', 'web', '10.244.1.10', 'web'),
  ];
  const objects = [
    ...CHART_POLICIES,
    OTHER_APP_POLICY,
    ...pods.map((p) => ({ apiVersion: 'v1', kind: 'Pod', ...p })),
  ];
  // JSON is YAML: one document per object.
  const text = objects.map((object) => `---\n${JSON.stringify(object)}\n`).join('');
  return [...parseManifests([{ name: 'fixture', text }], NAMESPACE).policies];
}

/** The chart's service account for the controller, and the token it authenticates with. */
export const CONTROLLER = serviceAccountUser(NAMESPACE, 'catmesh-chaos-controller');
export const CONTROLLER_TOKEN = 'controller-token';
const ADMIN_TOKEN = 'admin-token';

export interface MeshFixture {
  readonly server: FakeApiServer;
  /** What the controller's token may reach: nothing until a Role is bound to it. */
  apisFor(token: string): Promise<{ core: CoreV1Api; networking: NetworkingV1Api }>;
  readonly core: CoreV1Api;
  readonly networking: NetworkingV1Api;
  readonly custom: CustomObjectsApi;
  /** The ChaosExperiment that owns the run's objects. */
  readonly owner: Required<Pick<V1OwnerReference, 'apiVersion' | 'kind' | 'name' | 'uid'>>;
  /** A pod as stored now, or undefined when gone. */
  pod(name: string): KubeObject | undefined;
  /** The objects of a kind in the namespace, straight from the store. */
  stored(type: ResourceType, labelled?: string): KubeObject[];
  close(): Promise<void>;
}

const EXPERIMENT_FILE = fileURLToPath(
  new URL('../../../k8s/experiments/kill-the-leader.yaml', import.meta.url),
);

export async function startMeshFixture(): Promise<MeshFixture> {
  const server = await startFakeApiServer({
    crds: [experimentCrd() as unknown as CustomResourceDefinition],
    users: {
      [ADMIN_TOKEN]: { name: 'kubernetes-admin', groups: ['system:masters'] },
      [CONTROLLER_TOKEN]: CONTROLLER,
    },
  });
  const configFor = async (token: string): Promise<KubeConfig> => {
    const config = new KubeConfig();
    config.loadFromFile(await server.kubeconfig(token));
    return config;
  };
  const config = await configFor(ADMIN_TOKEN);
  for (const [name, service, ip] of MESH_PODS) {
    server.store.create(PODS_TYPE, NAMESPACE, pod(name, service, ip));
  }
  server.store.create(PODS_TYPE, NAMESPACE, pod('web-0', 'web', '10.244.1.10', 'web'));
  for (const policy of [...CHART_POLICIES, OTHER_APP_POLICY]) {
    server.store.create(POLICIES_TYPE, NAMESPACE, structuredClone(policy));
  }
  const custom = config.makeApiClient(CustomObjectsApi);
  const experiment = await readExperimentFile(EXPERIMENT_FILE);
  const created = (await custom.createNamespacedCustomObject({
    group: EXPERIMENT_GROUP,
    version: 'v1alpha1',
    namespace: NAMESPACE,
    plural: EXPERIMENT_PLURAL,
    body: experiment,
  })) as KubeObject;
  return {
    server,
    apisFor: async (token) => {
      const other = await configFor(token);
      return {
        core: other.makeApiClient(CoreV1Api),
        networking: other.makeApiClient(NetworkingV1Api),
      };
    },
    core: config.makeApiClient(CoreV1Api),
    networking: config.makeApiClient(NetworkingV1Api),
    custom,
    owner: {
      apiVersion: created.apiVersion,
      kind: created.kind,
      name: created.metadata.name,
      uid: created.metadata.uid,
    },
    pod: (name) =>
      server.store
        .list(PODS_TYPE, NAMESPACE, (meta) => meta.name === name)
        .find((object) => object.metadata.name === name),
    stored: (type, labelled) =>
      server.store.list(
        type,
        NAMESPACE,
        (meta) => labelled === undefined || Object.hasOwn(meta.labels ?? {}, labelled),
      ),
    close: () => server.close(),
  };
}
