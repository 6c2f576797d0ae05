// Pod Security Standards, "restricted" profile (Kubernetes 1.33), one check per rule of
// https://kubernetes.io/docs/concepts/security/pod-security-standards/ (the baseline rules
// included, since restricted is baseline and more), plus what catmesh asks on top: a read-only
// root file system, and no service account token but under a service account of the pod's own
// (the chaos controller's, bound to its Role).
import type { IIoK8sApiCoreV1Container } from 'kubernetes-models/v1/Container';
import type { IIoK8sApiCoreV1PodSpec } from 'kubernetes-models/v1/PodSpec';

export interface PodSecurityRule {
  readonly rule: string;
  /** What breaks the rule in `pod`, one line each; empty when it holds. */
  check(pod: IIoK8sApiCoreV1PodSpec): string[];
}

const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t']);
const RESTRICTED_VOLUMES = [
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
];

function containersOf(pod: IIoK8sApiCoreV1PodSpec): IIoK8sApiCoreV1Container[] {
  return [...(pod.initContainers ?? []), ...pod.containers];
}

/** Each container's value, and the container's name, for a per-container rule. */
function perContainer(
  pod: IIoK8sApiCoreV1PodSpec,
  bad: (container: IIoK8sApiCoreV1Container) => string | undefined,
): string[] {
  return containersOf(pod).flatMap((container) => {
    const problem = bad(container);
    return problem === undefined ? [] : [`container ${container.name}: ${problem}`];
  });
}

export const RESTRICTED_RULES: readonly PodSecurityRule[] = [
  {
    rule: 'baseline: HostProcess',
    check: (pod) => [
      ...(pod.securityContext?.windowsOptions?.hostProcess ? ['pod: hostProcess is true'] : []),
      ...perContainer(pod, (c) =>
        c.securityContext?.windowsOptions?.hostProcess ? 'hostProcess is true' : undefined,
      ),
    ],
  },
  {
    rule: 'baseline: host namespaces',
    check: (pod) =>
      (['hostNetwork', 'hostPID', 'hostIPC'] as const)
        .filter((field) => pod[field] === true)
        .map((field) => `pod: ${field} is true`),
  },
  {
    rule: 'baseline: privileged containers',
    check: (pod) =>
      perContainer(pod, (c) => (c.securityContext?.privileged ? 'privileged is true' : undefined)),
  },
  {
    rule: 'baseline: HostPath volumes',
    check: (pod) =>
      (pod.volumes ?? []).filter((v) => v.hostPath).map((v) => `volume ${v.name}: hostPath`),
  },
  {
    rule: 'baseline: host ports',
    check: (pod) =>
      perContainer(pod, (c) => {
        const used = (c.ports ?? []).filter((p) => (p.hostPort ?? 0) !== 0);
        return used.length > 0 ? `hostPort ${used.map((p) => p.hostPort).join(', ')}` : undefined;
      }),
  },
  {
    rule: 'baseline: AppArmor',
    check: (pod) => {
      const allowed = (type: string | undefined): boolean =>
        type === undefined || type === 'RuntimeDefault' || type === 'Localhost';
      return [
        ...(allowed(pod.securityContext?.appArmorProfile?.type) ? [] : ['pod: AppArmor profile']),
        ...perContainer(pod, (c) =>
          allowed(c.securityContext?.appArmorProfile?.type) ? undefined : 'AppArmor profile',
        ),
      ];
    },
  },
  {
    rule: 'baseline: SELinux',
    check: (pod) => {
      const contexts = [
        ['pod', pod.securityContext?.seLinuxOptions] as const,
        ...containersOf(pod).map(
          (c) => [`container ${c.name}`, c.securityContext?.seLinuxOptions] as const,
        ),
      ];
      return contexts.flatMap(([where, options]) =>
        options &&
        (!SELINUX_TYPES.has(options.type ?? '') ||
          options.user !== undefined ||
          options.role !== undefined)
          ? [`${where}: SELinux options ${JSON.stringify(options)}`]
          : [],
      );
    },
  },
  {
    rule: 'baseline: /proc mount type',
    check: (pod) =>
      perContainer(pod, (c) =>
        (c.securityContext?.procMount ?? 'Default') === 'Default'
          ? undefined
          : 'procMount is not Default',
      ),
  },
  {
    rule: 'baseline: sysctls',
    check: (pod) =>
      (pod.securityContext?.sysctls ?? [])
        .filter((s) => !SAFE_SYSCTLS.has(s.name))
        .map((s) => `pod: sysctl ${s.name}`),
  },
  {
    rule: 'restricted: volume types',
    check: (pod) =>
      (pod.volumes ?? [])
        .filter(
          (volume) =>
            !Object.keys(volume).every((key) => key === 'name' || RESTRICTED_VOLUMES.includes(key)),
        )
        .map((volume) => `volume ${volume.name}: ${Object.keys(volume).join(', ')}`),
  },
  {
    rule: 'restricted: privilege escalation',
    check: (pod) =>
      perContainer(pod, (c) =>
        c.securityContext?.allowPrivilegeEscalation === false
          ? undefined
          : 'allowPrivilegeEscalation is not false',
      ),
  },
  {
    rule: 'restricted: running as non-root',
    check: (pod) => {
      const podNonRoot = pod.securityContext?.runAsNonRoot;
      return [
        ...(podNonRoot === false ? ['pod: runAsNonRoot is false'] : []),
        ...perContainer(pod, (c) => {
          const own = c.securityContext?.runAsNonRoot;
          if (own === false) return 'runAsNonRoot is false';
          return own === true || podNonRoot === true ? undefined : 'runAsNonRoot is not set';
        }),
      ];
    },
  },
  {
    rule: 'restricted: running as non-root user (numeric, not 0)',
    check: (pod) => {
      const podUser = pod.securityContext?.runAsUser;
      return [
        ...(podUser === 0 ? ['pod: runAsUser is 0'] : []),
        ...perContainer(pod, (c) => {
          const user = c.securityContext?.runAsUser ?? podUser;
          if (user === 0) return 'runAsUser is 0';
          // Not a restricted rule itself, but catmesh's: kubelet can check a numeric user
          // against runAsNonRoot without trusting the image's /etc/passwd.
          return Number.isInteger(user) ? undefined : 'no numeric runAsUser';
        }),
      ];
    },
  },
  {
    rule: 'restricted: seccomp',
    check: (pod) => {
      const allowed = (type: string | undefined): boolean =>
        type === 'RuntimeDefault' || type === 'Localhost';
      const podType = pod.securityContext?.seccompProfile?.type;
      return [
        ...(podType !== undefined && !allowed(podType) ? [`pod: seccomp ${podType}`] : []),
        ...perContainer(pod, (c) => {
          const type = c.securityContext?.seccompProfile?.type ?? podType;
          return allowed(type) ? undefined : `seccomp ${type ?? 'not set'}`;
        }),
      ];
    },
  },
  {
    rule: 'restricted: capabilities (drop ALL, add only NET_BIND_SERVICE)',
    check: (pod) =>
      perContainer(pod, (c) => {
        const caps = c.securityContext?.capabilities;
        if (!(caps?.drop ?? []).includes('ALL')) return 'capabilities do not drop ALL';
        const added = (caps?.add ?? []).filter((cap) => cap !== 'NET_BIND_SERVICE');
        return added.length > 0 ? `adds ${added.join(', ')}` : undefined;
      }),
  },
  {
    rule: 'catmesh: read-only root file system',
    check: (pod) =>
      perContainer(pod, (c) =>
        c.securityContext?.readOnlyRootFilesystem === true
          ? undefined
          : 'root file system is writable',
      ),
  },
  {
    rule: 'catmesh: no service account token but with a service account of its own',
    check: (pod) => {
      if (pod.automountServiceAccountToken === false) return [];
      // The namespace's default account is every pod's that names none: its token is no identity.
      const account = pod.serviceAccountName ?? 'default';
      if (account === 'default') return ['pod: the default service account token is mounted'];
      return pod.automountServiceAccountToken === true
        ? []
        : [`pod: ${account}'s token is mounted by default, not asked for`];
    },
  },
];
