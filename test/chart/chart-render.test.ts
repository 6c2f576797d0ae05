// The chart as helm renders it: lint, every object against the Kubernetes 1.33 schema over a
// matrix of values, bad values refused with the schema's message, Pod Security "restricted".
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1PodSpec } from 'kubernetes-models/v1/PodSpec';
import { describe, expect, it } from 'vitest';
import {
  CHART_DIR,
  helm,
  parseManifests,
  renderChart,
  VALUES_MATRIX,
  valuesArgs,
  type RenderedObject,
  type ValuesCase,
} from './helm-chart.js';
import { schemaErrors } from './kubernetes-schema.js';
import { RESTRICTED_RULES } from './pod-security.js';

const WORKLOADS = new Set(['Deployment', 'StatefulSet', 'Job']);
const CATMESH_SERVICES = ['cat-feeder', 'inventory', 'orders', 'loadgen'];

interface Workload extends RenderedObject {
  readonly spec: {
    readonly replicas?: number;
    readonly template: { readonly spec: IIoK8sApiCoreV1PodSpec };
  };
}

function workloads(objects: readonly RenderedObject[]): Workload[] {
  return objects.filter((object): object is Workload => WORKLOADS.has(object.kind));
}

function find(objects: readonly RenderedObject[], kind: string, name: string): RenderedObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} rendered`);
  return found;
}

function envOf(container: IIoK8sApiCoreV1Container): Map<string, string | undefined> {
  return new Map((container.env ?? []).map((variable) => [variable.name, variable.value]));
}

function catmeshContainer(objects: readonly RenderedObject[], service: string) {
  const kind = service === 'cat-feeder' ? 'StatefulSet' : 'Deployment';
  const workload = find(objects, kind, `catmesh-${service}`) as Workload;
  const container = workload.spec.template.spec.containers[0]!;
  return { workload, container, env: envOf(container) };
}

const rendered = new Map<string, Promise<RenderedObject[]>>();
function render(values: ValuesCase): Promise<RenderedObject[]> {
  if (!rendered.has(values.name)) rendered.set(values.name, renderChart(values));
  return rendered.get(values.name)!;
}

describe('helm lint --strict', () => {
  it.each(VALUES_MATRIX)('passes with $name', async (values) => {
    const result = await helm(['lint', '--strict', CHART_DIR, ...valuesArgs(values)]);
    expect(result.stdout + result.stderr).toContain('0 chart(s) failed');
    expect(result.code).toBe(0);
  });
});

describe.each(VALUES_MATRIX)('helm template with $name', (values) => {
  it('renders only objects that the Kubernetes 1.33 schema accepts, unknown fields included', async () => {
    const objects = await render(values);
    const core = objects.filter((object) => object.apiVersion !== 'monitoring.coreos.com/v1');
    expect(core.length).toBeGreaterThan(10);
    expect(core.flatMap(schemaErrors)).toEqual([]);
  });

  it('labels every object with the standard labels', async () => {
    for (const object of await render(values)) {
      const labels = object.metadata['labels'] as Record<string, string>;
      expect(Object.keys(labels), `${object.kind} ${object.metadata.name}`).toEqual(
        expect.arrayContaining([
          'app.kubernetes.io/name',
          'app.kubernetes.io/instance',
          'app.kubernetes.io/component',
          'app.kubernetes.io/part-of',
          'app.kubernetes.io/version',
          'app.kubernetes.io/managed-by',
          'helm.sh/chart',
        ]),
      );
    }
  });

  it('meets Pod Security "restricted" on every pod template, rule by rule', async () => {
    const pods = workloads(await render(values));
    expect(pods.length).toBeGreaterThanOrEqual(5);
    const violations = pods.flatMap((workload) =>
      RESTRICTED_RULES.flatMap((rule) =>
        rule
          .check(workload.spec.template.spec)
          .map((problem) => `${workload.kind} ${workload.metadata.name}: ${rule.rule}: ${problem}`),
      ),
    );
    expect(violations).toEqual([]);
  });

  it('gives every catmesh service its ports, probes and a grace period longer than its own', async () => {
    const objects = await render(values);
    const services = CATMESH_SERVICES.filter(
      (service) => service !== 'loadgen' || values.set?.['loadgen.enabled'] !== 'false',
    );
    for (const service of services) {
      const { workload, container, env } = catmeshContainer(objects, service);
      const ports = new Map((container.ports ?? []).map((port) => [port.name, port.containerPort]));
      const grpc = ports.get('grpc')!;
      expect(env.get('CATMESH_GRPC_PORT')).toBe(String(grpc));
      expect(env.get('CATMESH_METRICS_PORT')).toBe(String(ports.get('metrics')));
      expect(ports.get('admin')).toBe(grpc + 1000);
      expect(env.get('CATMESH_ADMIN_PORT')).toBe(String(grpc + 1000));
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
        expect(container[probe]?.grpc?.port, `${service} ${probe}`).toBe(grpc);
      }
      const graceSeconds = Number(env.get('CATMESH_SHUTDOWN_GRACE')?.replace(/s$/, ''));
      const pod = workload.spec.template.spec;
      expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(graceSeconds);
      expect(container.resources?.requests).toBeDefined();
      expect(container.resources?.limits).toBeDefined();
    }
  });

  it('traces to Jaeger with k8s.* resource attributes, or switches tracing off', async () => {
    const objects = await render(values);
    const tracing = values.set?.['tracing.enabled'] !== 'false';
    const { env } = catmeshContainer(objects, 'orders');
    if (tracing) {
      find(objects, 'Deployment', 'catmesh-jaeger');
      expect(env.get('OTEL_EXPORTER_OTLP_ENDPOINT')).toBe('http://catmesh-jaeger:4318');
      expect(env.get('OTEL_RESOURCE_ATTRIBUTES')).toMatch(
        /k8s\.namespace\.name=\$\(POD_NAMESPACE\),k8s\.pod\.name=\$\(POD_NAME\),.*k8s\.deployment\.name=catmesh-orders/,
      );
      expect(env.has('OTEL_SDK_DISABLED')).toBe(false);
    } else {
      expect(objects.some((object) => object.metadata.name === 'catmesh-jaeger')).toBe(false);
      expect(env.get('OTEL_SDK_DISABLED')).toBe('true');
    }
  });
});

describe('the cat-feeder Raft group', () => {
  it.each([3, 5])(
    'has %i replicas with ids 1..n from the pod ordinal and a majority PDB',
    async (n) => {
      const values = VALUES_MATRIX.find((v) =>
        n === 5 ? v.set?.['catFeeder.replicas'] === '5' : v.name === 'defaults',
      )!;
      const objects = await render(values);
      const { workload, container, env } = catmeshContainer(objects, 'cat-feeder');
      expect(workload.spec.replicas).toBe(n);
      expect(workload.spec['podManagementPolicy' as keyof Workload['spec']]).toBe('Parallel');
      // Peers reach each other on the Raft port, which only replicas may connect to.
      expect(env.get('CATMESH_RAFT_PORT')).toBe('7102');
      expect(container.ports?.find((p) => p.name === 'raft')?.containerPort).toBe(7102);
      const peers = env.get('CATMESH_PEERS')!.split(',');
      expect(peers).toEqual(
        Array.from(
          { length: n },
          (_, i) =>
            `${i + 1}=catmesh-cat-feeder-${i}.catmesh-cat-feeder-headless.catmesh.svc.cluster.local:7102`,
        ),
      );
      expect(container.args?.[0]).toContain('CATMESH_NODE_ID=$((POD_INDEX + 1))');
      expect(
        container.env?.find((v) => v.name === 'POD_INDEX')?.valueFrom?.fieldRef?.fieldPath,
      ).toBe("metadata.labels['apps.kubernetes.io/pod-index']");
      const pdb = find(objects, 'PodDisruptionBudget', 'catmesh-cat-feeder') as RenderedObject & {
        spec: { minAvailable: number };
      };
      expect(pdb.spec.minAvailable).toBe(Math.floor(n / 2) + 1);
      const headless = find(objects, 'Service', 'catmesh-cat-feeder-headless') as RenderedObject & {
        spec: { clusterIP: string; publishNotReadyAddresses: boolean };
      };
      expect(headless.spec).toMatchObject({ clusterIP: 'None', publishNotReadyAddresses: true });
    },
  );
});

describe('the opt-in ServiceMonitor', () => {
  it('scrapes the metrics port every catmesh Service names', async () => {
    const values = VALUES_MATRIX.find((v) => v.set?.['metrics.serviceMonitor.enabled'] === 'true')!;
    const objects = await render(values);
    const monitor = find(objects, 'ServiceMonitor', 'catmesh-catmesh') as RenderedObject & {
      spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] };
    };
    expect(monitor.spec.endpoints.map((endpoint) => endpoint.port)).toEqual(['metrics']);
    const scraped = objects.filter(
      (object) =>
        object.kind === 'Service' &&
        Object.entries(monitor.spec.selector.matchLabels).every(
          ([key, value]) => (object.metadata['labels'] as Record<string, string>)[key] === value,
        ) &&
        (object['spec'] as { ports: { name: string }[] }).ports.some(
          (port) => port.name === 'metrics',
        ),
    );
    expect(scraped.map((service) => service.metadata.name).sort()).toEqual([
      'catmesh-cat-feeder',
      'catmesh-inventory',
      'catmesh-orders',
    ]);
  });
});

describe('bad values', () => {
  it.each([
    ['catFeeder.replicas=4', "at '/catFeeder/replicas': value must be one of 3, 5"],
    ['catFeeder.ports.grpc=-1', "at '/catFeeder/ports/grpc': minimum: got -1, want 1"],
    ['nats.ports.client=70000', "at '/nats/ports/client': maximum: got 70,000, want 65,535"],
    ['catFeeder.replica=3', "at '/catFeeder': additional properties 'replica' not allowed"],
    ['bogus=1', "additional properties 'bogus' not allowed"],
    ['chaosController.enabled=true', "at '/chaosController/enabled': value must be false"],
    [
      'serviceGraph=[{"from":"orders","to":"mailer","port":"grpc"}]',
      "at '/serviceGraph/0/to': value must be one of 'nats', 'cat-feeder'",
    ],
    [
      'serviceGraph=[{"from":"orders","to":"inventory","port":"grpc","note":"x"}]',
      "at '/serviceGraph/0': additional properties 'note' not allowed",
    ],
    ['networkPolicies.dns.port=0', "at '/networkPolicies/dns/port': minimum: got 0, want 1"],
  ])('refuses %s with the schema message', async (pair, message) => {
    const flag = pair.includes('=[') ? '--set-json' : '--set';
    const result = await helm(['template', 'catmesh', CHART_DIR, flag, pair]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain("values don't meet the specifications of the schema");
    expect(result.stderr).toContain(message);
  });

  it('refuses a service graph edge to a port its destination does not have, naming it', async () => {
    const result = await helm([
      ...['template', 'catmesh', CHART_DIR, '--set-json'],
      'serviceGraph=[{"from":"orders","to":"inventory","port":"http"}]',
    ]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      'serviceGraph[0]: inventory has no port named "http" (its ports: grpc, metrics, admin)',
    );
  });
});

describe('the ChaosExperiment CRD', () => {
  it('is installed from crds/ before the templates, and the Kubernetes schema accepts it', async () => {
    const result = await helm(['template', 'catmesh', CHART_DIR, '--include-crds']);
    expect(result.code, result.stderr).toBe(0);
    const crds = parseManifests(result.stdout).filter((o) => o.kind === 'CustomResourceDefinition');
    expect(crds.map((crd) => crd.metadata.name)).toEqual(['chaosexperiments.catmesh.dev']);
    // kubernetes-models types the schema's items and x-kubernetes-* loosely, so its validator
    // never reads them and they look unknown; experiment-crd.test.ts checks the schema itself
    // against the structural rules. Wrong types inside it still count here.
    const inSchema = /unknown field \/spec\/versions\/\d+\/schema\/openAPIV3Schema\//;
    expect(crds.flatMap(schemaErrors).filter((error) => !inSchema.test(error))).toEqual([]);
  });
});

describe('the Pod Security checks themselves', () => {
  it('catch a pod that breaks every rule', () => {
    const pod: IIoK8sApiCoreV1PodSpec = {
      hostNetwork: true,
      securityContext: {
        runAsNonRoot: false,
        runAsUser: 0,
        seccompProfile: { type: 'Unconfined' },
        sysctls: [{ name: 'kernel.msgmax', value: '1' }],
        seLinuxOptions: { type: 'spc_t' },
        windowsOptions: { hostProcess: true },
        appArmorProfile: { type: 'Unconfined' },
      },
      volumes: [{ name: 'host', hostPath: { path: '/' } }],
      containers: [
        {
          name: 'bad',
          ports: [{ containerPort: 80, hostPort: 80 }],
          securityContext: {
            privileged: true,
            allowPrivilegeEscalation: true,
            capabilities: { add: ['NET_ADMIN'] },
            procMount: 'Unmasked',
          },
        },
      ],
    };
    const broken = RESTRICTED_RULES.filter((rule) => rule.check(pod).length > 0).map((r) => r.rule);
    expect(broken).toEqual(RESTRICTED_RULES.map((rule) => rule.rule));
  });
});

describe('the schema check itself', () => {
  it('reports a wrong type, and a field the schema does not have, but not map keys', async () => {
    const [statefulSet] = (await render(VALUES_MATRIX[0]!)).filter((o) => o.kind === 'StatefulSet');
    const object = structuredClone(statefulSet!) as Workload;
    const container = object.spec.template.spec.containers[0] as unknown as Record<string, unknown>;
    container['imagePullSecret'] = 'x';
    object.spec.template.spec.volumes![0]!.emptyDir = {
      sizeLimit: '1Mi',
      medium: '',
      size: 1,
    } as never;
    (object.metadata['labels'] as Record<string, string>)['any-label'] = 'fine';
    expect(schemaErrors(object)).toEqual([
      'StatefulSet catmesh-cat-feeder: unknown field /spec/template/spec/containers/0/imagePullSecret',
      'StatefulSet catmesh-cat-feeder: unknown field /spec/template/spec/volumes/0/emptyDir/size',
    ]);
    container['ports'] = [{ containerPort: 'x' }];
    expect(schemaErrors(object)).toEqual([
      'StatefulSet catmesh-cat-feeder: /spec/template/spec/containers/0/ports/0/containerPort fails type {"type":"integer"}',
    ]);
  });
});
