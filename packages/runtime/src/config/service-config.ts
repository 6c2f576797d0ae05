import { hostname } from 'node:os';
import { boolean, duration, enumOf, host, port, string, url } from './env-types.js';
import { envVar, type ConfigOf } from './load-config.js';

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The OTLP transports the kit exports traces with (OTLP over gRPC is not offered). */
export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];

/** What differs between services in the common config: their name, version and default ports. */
export interface ServiceDefaults {
  readonly serviceName: string;
  readonly serviceVersion?: string;
  readonly grpcPort: number;
  readonly metricsPort: number;
  /** The fault admin port; default the gRPC port + 1000 (ADMIN_PORT_OFFSET). */
  readonly adminPort?: number;
}

/** How far above its default gRPC port a service's fault admin port is by default. */
export const ADMIN_PORT_OFFSET = 1000;

/** `CATMESH_FAULT_ADMIN`: whether the process holds a fault table and serves its admin API. */
export const FAULT_ADMIN_MODES = ['on', 'off'] as const;
export type FaultAdminMode = (typeof FAULT_ADMIN_MODES)[number];

/**
 * The config every catmesh service shares. A service extends it with its own variables:
 * `const schema = { ...serviceConfigSchema({ ... }), reserveTimeoutMs: envVar(...) }`.
 */
export function serviceConfigSchema(defaults: ServiceDefaults) {
  return {
    serviceName: envVar('CATMESH_SERVICE_NAME', string(), { default: defaults.serviceName }),
    serviceVersion: envVar('CATMESH_SERVICE_VERSION', string(), {
      default: defaults.serviceVersion ?? '0.0.0-dev',
    }),
    // A pod name is unique in Kubernetes; the pid keeps several local replicas apart.
    instanceId: envVar('CATMESH_INSTANCE_ID', string(), {
      default: `${hostname()}-${process.pid}`,
    }),
    /** The gRPC server and the HTTP metrics listener both bind this host. */
    grpcHost: envVar('CATMESH_GRPC_HOST', host(), { default: '0.0.0.0' }),
    grpcPort: envVar('CATMESH_GRPC_PORT', port(), { default: defaults.grpcPort }),
    metricsPort: envVar('CATMESH_METRICS_PORT', port(), { default: defaults.metricsPort }),
    /**
     * The fault admin API (catmesh.faults.v1.FaultAdminService) listens apart from the gRPC API,
     * so that a NetworkPolicy can allow it from the chaos controller alone. Host default: the
     * gRPC host.
     */
    adminHost: envVar('CATMESH_ADMIN_HOST', host(), { optional: true }),
    adminPort: envVar('CATMESH_ADMIN_PORT', port(), {
      default: defaults.adminPort ?? defaults.grpcPort + ADMIN_PORT_OFFSET,
    }),
    /** `off`: no fault table, no admin API, no traffic gate (the benchmark's baseline). */
    faultAdmin: envVar('CATMESH_FAULT_ADMIN', enumOf(FAULT_ADMIN_MODES), { default: 'on' }),
    logLevel: envVar('CATMESH_LOG_LEVEL', enumOf(LOG_LEVELS), { default: 'info' }),
    shutdownGraceMs: envVar('CATMESH_SHUTDOWN_GRACE', duration({ minMs: 1 }), {
      default: 20_000,
    }),
    otelSdkDisabled: envVar('OTEL_SDK_DISABLED', boolean(), { default: false }),
    otlpEndpoint: envVar('OTEL_EXPORTER_OTLP_ENDPOINT', url(), {
      default: 'http://localhost:4318',
    }),
    otlpProtocol: envVar('OTEL_EXPORTER_OTLP_PROTOCOL', enumOf(OTLP_PROTOCOLS), {
      default: 'http/protobuf',
    }),
    /**
     * A second OTLP/HTTP receiver that gets a copy of every span, as OTLP/JSON at
     * `<url>/v1/traces`, through an exporter and batch of its own: the dashboard's receiver
     * beside the Jaeger of OTEL_EXPORTER_OTLP_ENDPOINT. Unset: no copy.
     */
    otlpDashboardEndpoint: envVar('CATMESH_OTLP_DASHBOARD_ENDPOINT', url(), { optional: true }),
    otelServiceName: envVar('OTEL_SERVICE_NAME', string(), { optional: true }),
  };
}

export type ServiceConfig = ConfigOf<ReturnType<typeof serviceConfigSchema>>;
