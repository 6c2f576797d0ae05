import type { JetStreamClient, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { TrafficGate } from '../traffic/traffic-gate.js';
import type { ConnectionStatus } from './connection-status.js';

/** What the kit's operations share for one connection. Internal: services use NatsClient. */
export interface NatsKit {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly logger: Logger;
  readonly status: ConnectionStatus;
  readonly publishTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** This process's `catmesh-caller` header value, sent with every message. */
  readonly caller: string | undefined;
  readonly gate: TrafficGate | undefined;
  /** Running subscription loops; each settles once its last handler has returned. */
  readonly subscriptions: Set<Promise<void>>;
  /** Running JetStream consumers, stopped first on drain so that their acks still go out. */
  readonly consumers: Set<{ stop(): Promise<void> }>;
}
