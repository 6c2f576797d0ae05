// The controller's environment: what the chart sets (namespace, mesh selector, Lease name) on top
// of the settings every catmesh process shares. The API server's address and credentials are not
// here: client-node finds them (KUBECONFIG, else the pod's service account).
import { envTypes, envVar, serviceConfigSchema, type ConfigOf } from '@catmesh/runtime';

const NAME = envTypes.string({
  pattern: /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/,
  description: 'a DNS label',
});

export function controllerConfigSchema() {
  const shared = serviceConfigSchema({
    serviceName: 'chaos-controller',
    // No gRPC API: the shared schema's gRPC host is the metrics listener's host.
    grpcPort: 7501,
    metricsPort: 9501,
  });
  return {
    serviceName: shared.serviceName,
    /** The Lease holder's identity: the pod name in a cluster. */
    instanceId: shared.instanceId,
    listenHost: shared.grpcHost,
    metricsPort: shared.metricsPort,
    logLevel: shared.logLevel,
    shutdownGraceMs: shared.shutdownGraceMs,
    /** The namespace it watches and acts in (the chart: the pod's own). */
    namespace: envVar('CATMESH_NAMESPACE', NAME),
    /** Which pods are the mesh's: `app.kubernetes.io/instance=<release>`. */
    meshSelector: envVar(
      'CATMESH_MESH_SELECTOR',
      envTypes.string({ pattern: /^\S+$/, description: 'a label selector' }),
    ),
    leaseName: envVar('CATMESH_LEASE_NAME', NAME, { default: 'catmesh-chaos-controller' }),
    leaseDurationMs: envVar(
      'CATMESH_LEASE_DURATION',
      envTypes.duration({ minMs: 1_000, maxMs: 300_000 }),
      { default: 15_000 },
    ),
    renewDeadlineMs: envVar(
      'CATMESH_LEASE_RENEW_DEADLINE',
      envTypes.duration({ minMs: 1, maxMs: 300_000 }),
      { default: 10_000 },
    ),
    retryPeriodMs: envVar('CATMESH_LEASE_RETRY', envTypes.duration({ minMs: 1, maxMs: 60_000 }), {
      default: 2_000,
    }),
    /** How often expired networkpolicy partitions are looked for. */
    sweepIntervalMs: envVar(
      'CATMESH_SWEEP_INTERVAL',
      envTypes.duration({ minMs: 100, maxMs: 300_000 }),
      { default: 5_000 },
    ),
  };
}

export type ControllerConfig = ConfigOf<ReturnType<typeof controllerConfigSchema>>;
