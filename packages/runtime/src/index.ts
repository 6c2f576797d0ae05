// The public API of @catmesh/runtime: the kit every catmesh service is built from.

// Config: typed, validated once in main.ts (ARCHITECTURE.md rule 4).
import * as envTypes from './config/env-types.js';
export { envTypes };
export type { EnvType } from './config/env-types.js';
export { ConfigError, envVar, loadConfig, loadConfigOrExit } from './config/load-config.js';
export type {
  ConfigCheck,
  ConfigOf,
  ConfigSchema,
  Environment,
  EnvVar,
  ExitIo,
} from './config/load-config.js';
export {
  ADMIN_PORT_OFFSET,
  FAULT_ADMIN_MODES,
  LOG_LEVELS,
  OTLP_PROTOCOLS,
  serviceConfigSchema,
} from './config/service-config.js';
export type {
  FaultAdminMode,
  LogLevel,
  OtlpProtocol,
  ServiceConfig,
  ServiceDefaults,
} from './config/service-config.js';

// Logging.
export { createLogger } from './logging/create-logger.js';
export type { LoggerConfig } from './logging/create-logger.js';
export type { Logger } from 'pino';

// Telemetry.
export { startTelemetry, telemetryConfigOf } from './telemetry/start-telemetry.js';
export type { Telemetry, TelemetryConfig } from './telemetry/start-telemetry.js';

// Metrics and the HTTP listener (/metrics, /healthz, /readyz).
export { createMetricsRegistry } from './metrics/create-registry.js';
export { samplesOf } from './metrics/prometheus-samples.js';
export type { Sample } from './metrics/prometheus-samples.js';
export { startMetricsHttpServer } from './metrics/metrics-http-server.js';
export type { MetricsHttpServer, MetricsHttpServerOptions } from './metrics/metrics-http-server.js';
export type { Registry } from 'prom-client';

// gRPC server: tracing, metrics, access log, health, reflection, drain.
export { GrpcServer } from './grpc/grpc-server.js';
export type {
  GrpcServerOptions,
  HandlerFor,
  ListenAddress,
  ServiceImplementation,
} from './grpc/grpc-server.js';
// Stops a handler's work when its caller has gone (deadline passed, cancelled).
export { serverCallSignal } from './grpc/server-call-signal.js';
export type { CancellableServerCall } from './grpc/server-call-signal.js';

// gRPC client: default deadline, retries for idempotent methods, tracing, metrics.
export { createClient, DEFAULT_DEADLINE_MS } from './grpc/create-client.js';
export type {
  ClientKitOptions,
  GeneratedClientConstructor,
  MethodNameOf,
} from './grpc/create-client.js';
export { DEFAULT_RETRY_POLICY } from './grpc/retry-interceptor.js';
export type { RetryPolicy } from './grpc/retry-interceptor.js';
export { callUnary } from './grpc/call-unary.js';
export { invalidArgument, RpcStatusError } from './grpc/rpc-status-error.js';
export type {
  UnaryCallOptions,
  UnaryMethodName,
  UnaryRequest,
  UnaryResponse,
} from './grpc/call-unary.js';

// Traffic hooks of the `app` fault mechanism: who this process is and the gate its traffic
// passes (packages/faults implements the gate).
export type {
  PeerIdentity,
  TrafficDecision,
  TrafficDirection,
  TrafficGate,
  TrafficHooks,
  TrafficRequest,
  TrafficTransport,
} from './traffic/traffic-gate.js';
export {
  CALLER_HEADER,
  formatCallerIdentity,
  NATS_PEER,
  parseCallerIdentity,
} from './traffic/caller-identity.js';

// Bounding work that cannot be cancelled.
export { sleep, withDeadline } from './async/with-deadline.js';

// The first and last lines of every main.ts.
export { serveService, startServiceProcess } from './service/serve-service.js';
export type { ServeServiceOptions, ServiceProcess } from './service/serve-service.js';

// Graceful shutdown (ARCHITECTURE.md rule 7).
export { installShutdownHandler } from './shutdown/install-shutdown-handler.js';
export type {
  ShutdownHandler,
  ShutdownHandlerOptions,
  ShutdownStep,
  SignalSource,
} from './shutdown/install-shutdown-handler.js';
export { standardShutdownSteps } from './shutdown/standard-shutdown-steps.js';
export type { StandardShutdownParts } from './shutdown/standard-shutdown-steps.js';

// NATS kit: traced, bounded publish/subscribe and JetStream (ARCHITECTURE.md rule 6).
export {
  connectNats,
  NatsConnectError,
  NatsUnavailableError,
  natsHeaderGetter,
  natsHeaderSetter,
} from './nats/index.js';
export { ContentionError, JsonBucket } from './nats/json-bucket.js';
export type { CasOptions, CasStep, OpenBucketOptions, Versioned } from './nats/json-bucket.js';
export type {
  ConnectNatsOptions,
  NatsClient,
  NatsConsumerOptions,
  NatsDurableConsumer,
  NatsJetStreamHandler,
  NatsJetStreamPublishOptions,
  NatsJsMsg,
  NatsMessageHandler,
  NatsMsg,
  NatsPayload,
  NatsPublishOptions,
  NatsStreamConfig,
  NatsSubscribeOptions,
  NatsSubscription,
  PubAck,
  StreamInfo,
} from './nats/index.js';
