// A mesh pod as the experiment sees it: an instance named after the pod, of the service its
// app.kubernetes.io/name label says, reached at its pod IP on its named container ports. The chart
// names the ports (grpc, client for NATS, admin for the fault admin API), so the mapping needs
// no per-service table, and the chart rehearsal reads its pods the same way.
import { isIPv6 } from 'node:net';
import type { MeshInstance } from '@catmesh/chaos';
import type { V1Pod } from '@kubernetes/client-node';

export const SERVICE_LABEL = 'app.kubernetes.io/name';

/** What addresses a pod: its name, labels, IP and container ports by name. */
export interface PodAddressing {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip: string;
  readonly ports: ReadonlyMap<string, number>;
}

/** The instance the pod is, or undefined for a pod that is no service of the mesh. */
export function meshInstanceOf(pod: PodAddressing): MeshInstance | undefined {
  const service = pod.labels[SERVICE_LABEL];
  const api = pod.ports.get('grpc') ?? pod.ports.get('client');
  if (service === undefined || api === undefined) return undefined;
  const admin = pod.ports.get('admin');
  return {
    name: pod.name,
    service,
    address: hostPort(pod.ip, api),
    ...(admin !== undefined && { adminAddress: hostPort(pod.ip, admin) }),
  };
}

/**
 * The instance a pod of the API is, when it can take traffic now: Running, with an IP, and not
 * being deleted (a terminating pod still runs through its grace period, but its replacement is
 * the instance that matters).
 */
export function podInstance(pod: V1Pod): MeshInstance | undefined {
  const name = pod.metadata?.name;
  const ip = pod.status?.podIP;
  if (
    name === undefined ||
    ip === undefined ||
    ip === '' ||
    pod.status?.phase !== 'Running' ||
    pod.metadata?.deletionTimestamp !== undefined
  ) {
    return undefined;
  }
  // Port names are unique within a pod (the API validates it), whichever container declares them.
  const ports = new Map(
    (pod.spec?.containers ?? []).flatMap((container) =>
      (container.ports ?? []).flatMap((port) =>
        port.name === undefined ? [] : [[port.name, port.containerPort] as const],
      ),
    ),
  );
  return meshInstanceOf({ name, labels: pod.metadata?.labels ?? {}, ip, ports });
}

function hostPort(ip: string, port: number): string {
  return isIPv6(ip) ? `[${ip}]:${port}` : `${ip}:${port}`;
}
