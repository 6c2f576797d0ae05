// Cluster DNS as a hosts file: what CoreDNS would answer inside the cluster, for the pods as
// they are now. A ClusterIP Service's name resolves whether or not its pods are ready, as its
// ClusterIP does; the rehearsal has no kube-proxy, so it leads to a ready pod it selects, or to
// a pod not ready yet when there is none (where kube-proxy would refuse the connection, the pod
// mostly does: it is not listening yet), and a Service port must be its pod's port. A headless
// Service's name and its pods' own names are published only for ready pods, unless the Service
// publishes not-ready addresses.
import type { IIoK8sApiCoreV1Service } from 'kubernetes-models/v1/Service';
import type { RenderedObject } from '../helm-chart.js';
import type { PodPlan } from './pod-plan.js';

export interface RunningPod {
  readonly plan: PodPlan;
  readonly ip: string;
  readonly ready: boolean;
}

function selects(service: IIoK8sApiCoreV1Service, pod: PodPlan): boolean {
  const selector = service.spec?.selector ?? {};
  return (
    Object.keys(selector).length > 0 &&
    Object.entries(selector).every(([key, value]) => pod.labels[key] === value)
  );
}

function servicesOf(objects: readonly RenderedObject[]): IIoK8sApiCoreV1Service[] {
  return objects
    .filter((object) => object.kind === 'Service')
    .map((object) => object as unknown as IIoK8sApiCoreV1Service);
}

/** `name`, `name.ns`, `name.ns.svc`, `name.ns.svc.<domain>`: what a pod's search path reaches. */
function serviceNames(name: string, namespace: string, domain: string): string[] {
  return [
    name,
    `${name}.${namespace}`,
    `${name}.${namespace}.svc`,
    `${name}.${namespace}.svc.${domain}`,
  ];
}

/**
 * Checks what the rehearsal cannot emulate: a Service port that is not its pods' own port
 * (that takes kube-proxy) or that names no container port.
 */
export function checkServicePorts(
  objects: readonly RenderedObject[],
  pods: readonly PodPlan[],
): void {
  for (const service of servicesOf(objects)) {
    for (const pod of pods.filter((p) => selects(service, p))) {
      const containerPorts = pod.spec.containers.flatMap((c) => c.ports ?? []);
      for (const port of service.spec?.ports ?? []) {
        const target = port.targetPort ?? port.port;
        const match = containerPorts.find((c) =>
          typeof target === 'number' ? c.containerPort === target : c.name === target,
        );
        if (!match) {
          throw new Error(
            `Service ${service.metadata?.name} port ${port.name}: targetPort ${target} is no port of pod ${pod.name}`,
          );
        }
        if (match.containerPort !== port.port) {
          throw new Error(
            `Service ${service.metadata?.name} port ${port.port} → ${match.containerPort}: the rehearsal has no kube-proxy to map it`,
          );
        }
      }
    }
  }
}

/** The hosts file every pod's namespace gets. */
export function hostsFile(
  objects: readonly RenderedObject[],
  pods: readonly RunningPod[],
  namespace: string,
  domain: string,
): string {
  const lines = ['127.0.0.1 localhost'];
  for (const service of servicesOf(objects)) {
    const name = service.metadata?.name ?? '';
    const headless = service.spec?.clusterIP === 'None';
    const selected = pods.filter((pod) => selects(service, pod.plan));
    const published = selected.filter(
      (pod) => pod.ready || (headless && service.spec?.publishNotReadyAddresses === true),
    );
    const answer = headless ? published[0] : (published[0] ?? selected[0]);
    if (answer) {
      lines.push(`${answer.ip} ${serviceNames(name, namespace, domain).join(' ')}`);
    }
    if (!headless) continue;
    for (const pod of published) {
      const { hostname, subdomain } = pod.plan.spec;
      if (hostname === undefined || subdomain !== name) continue;
      lines.push(`${pod.ip} ${hostname}.${name}.${namespace}.svc.${domain} ${hostname}.${name}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
