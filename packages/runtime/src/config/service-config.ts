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
}

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
    otelServiceName: envVar('OTEL_SERVICE_NAME', string(), { optional: true }),
  };
}

export type ServiceConfig = ConfigOf<ReturnType<typeof serviceConfigSchema>>;
