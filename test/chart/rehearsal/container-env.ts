// A container's environment and command line as the kubelet makes them: downward-API fields
// filled in, `$(VAR)` references to earlier variables expanded (`$$` escapes), the image's own
// ENV and the kubelet's service variables underneath.
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { PodPlan } from './pod-plan.js';

export interface PodIdentity {
  readonly plan: PodPlan;
  readonly uid: string;
  readonly nodeName: string;
  readonly podIp: string;
}

function fieldValue(path: string, pod: PodIdentity): string {
  const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
  if (label) return pod.plan.labels[label[1]!] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.plan.name;
    case 'metadata.namespace':
      return pod.plan.namespace;
    case 'metadata.uid':
      return pod.uid;
    case 'spec.nodeName':
      return pod.nodeName;
    case 'status.podIP':
      return pod.podIp;
    default:
      throw new Error(`pod ${pod.plan.name}: the rehearsal does not know fieldRef ${path}`);
  }
}

/** Kubernetes' expansion of `$(NAME)` from `defined`; unknown references stay as written. */
export function expandReferences(text: string, defined: ReadonlyMap<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (whole, name?: string) =>
    name === undefined ? '$' : (defined.get(name) ?? whole),
  );
}

export interface ContainerProcess {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
}

/** What the container runs: its command and args (expanded), its environment over `baseEnv`. */
export function containerProcess(
  container: IIoK8sApiCoreV1Container,
  pod: PodIdentity,
  baseEnv: Readonly<Record<string, string>>,
): ContainerProcess {
  const defined = new Map<string, string>();
  for (const variable of container.env ?? []) {
    const fieldPath = variable.valueFrom?.fieldRef?.fieldPath;
    if (variable.valueFrom && fieldPath === undefined) {
      throw new Error(
        `container ${container.name}: ${variable.name} comes from a source the rehearsal lacks`,
      );
    }
    defined.set(
      variable.name,
      fieldPath !== undefined
        ? fieldValue(fieldPath, pod)
        : expandReferences(variable.value ?? '', defined),
    );
  }
  const command = [...(container.command ?? []), ...(container.args ?? [])].map((part) =>
    expandReferences(part, defined),
  );
  if (command.length === 0)
    throw new Error(`container ${container.name}: no command (the image's would run)`);
  // The container runtime sets HOSTNAME to the pod's hostname.
  return {
    command,
    env: {
      ...baseEnv,
      HOSTNAME: pod.plan.spec.hostname ?? pod.plan.name,
      ...Object.fromEntries(defined),
    },
  };
}
