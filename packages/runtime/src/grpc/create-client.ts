import {
  credentials as grpcCredentials,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientOptions,
  type Interceptor,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import type { Registry } from 'prom-client';
import { grpcClientMetrics } from '../metrics/grpc-metrics.js';
import { clientMetricsInterceptor } from './client-metrics-interceptor.js';
import type { PeerIdentity, TrafficHooks } from '../traffic/traffic-gate.js';
import { clientTracingInterceptor } from './client-tracing-interceptor.js';
import { clientTrafficInterceptor } from './client-traffic-interceptor.js';
import { defaultDeadlineInterceptor } from './default-deadline-interceptor.js';
import { serverIdentity } from './peer-service.js';
import { DEFAULT_RETRY_POLICY, retryInterceptor, type RetryPolicy } from './retry-interceptor.js';

/** The client class ts-proto generates for a service (`inventoryV1.InventoryServiceClient`). */
export interface GeneratedClientConstructor<C extends Client = Client> {
  new (address: string, credentials: ChannelCredentials, options?: Partial<ClientOptions>): C;
  readonly service: ServiceDefinition;
  readonly serviceName: string;
}

/** The method names of a generated client's service (`getStock`, `reserve`, ...). */
export type MethodNameOf<Ctor extends GeneratedClientConstructor> = keyof Ctor['service'] & string;

export interface ClientKitOptions<M extends string = string> {
  /** The process's metrics registry; the client's RED metrics are recorded into it. */
  readonly registry: Registry;
  /** Deadline of a unary call whose caller set none; 5 s unless given. */
  readonly defaultDeadlineMs?: number;
  /**
   * Methods safe to send twice, which are retried on UNAVAILABLE (see retryInterceptor).
   * Only unary methods can be listed; nothing else is ever retried.
   */
  readonly idempotent?: readonly M[];
  readonly retry?: Partial<RetryPolicy>;
  /** Plaintext unless given: the mesh runs inside one cluster or on one machine. */
  readonly credentials?: ChannelCredentials;
  readonly channelOptions?: ChannelOptions;
  /**
   * More interceptors, innermost (nearest the network, e.g. an injected fault): the kit's
   * retries, spans and metrics see what they do.
   */
  readonly interceptors?: readonly Interceptor[];
  /**
   * This process's identity and traffic gate (the `app` fault mechanism): every call carries the
   * identity, and the gate sees every request, innermost, so that retries, spans and metrics see
   * what a fault does.
   */
  readonly traffic?: TrafficHooks;
  /**
   * Who the server is, for the gate's peer selectors. The service comes from the client's own
   * service name (`catmesh.inventory.v1.InventoryService` → `inventory`); a client made for one
   * known instance says which here.
   */
  readonly server?: Partial<PeerIdentity>;
}

export const DEFAULT_DEADLINE_MS = 5000;

/**
 * Creates a ts-proto grpc-js client for `address` with the kit's interceptors, outermost first:
 * default deadline → retries (idempotent methods only) → tracing → metrics → `interceptors` →
 * traffic. Tracing and metrics sit inside the retries, so each attempt is its own CLIENT span and
 * metrics sample.
 */
export function createClient<Ctor extends GeneratedClientConstructor>(
  ClientClass: Ctor,
  address: string,
  options: ClientKitOptions<MethodNameOf<Ctor>>,
): InstanceType<Ctor> {
  const idempotentPaths = new Set<string>();
  for (const name of options.idempotent ?? []) {
    const method = ClientClass.service[name];
    if (!method)
      throw new Error(`createClient: ${ClientClass.serviceName} has no method "${name}"`);
    if (method.requestStream || method.responseStream) {
      throw new Error(`createClient: only unary methods can be retried; "${name}" streams`);
    }
    idempotentPaths.add(method.path);
  }
  const { traffic } = options;
  const interceptors = [
    defaultDeadlineInterceptor(options.defaultDeadlineMs ?? DEFAULT_DEADLINE_MS),
    retryInterceptor(idempotentPaths, { ...DEFAULT_RETRY_POLICY, ...options.retry }),
    clientTracingInterceptor(address, traffic?.gate !== undefined),
    clientMetricsInterceptor(grpcClientMetrics(options.registry)),
    ...(options.interceptors ?? []),
    ...(traffic
      ? [clientTrafficInterceptor(traffic, serverIdentity(ClientClass.serviceName, options.server))]
      : []),
  ];
  return new ClientClass(address, options.credentials ?? grpcCredentials.createInsecure(), {
    ...options.channelOptions,
    interceptors,
  }) as InstanceType<Ctor>;
}
