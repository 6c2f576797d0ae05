import type { JetStreamClient, NatsConnection } from 'nats';
import type { Logger } from 'pino';
import type { ConnectionStatus } from './connection-status.js';

/** What the kit's operations share for one connection. Internal: services use NatsClient. */
export interface NatsKit {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly logger: Logger;
  readonly status: ConnectionStatus;
  readonly publishTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Running subscription loops; each settles once its last handler has returned. */
  readonly subscriptions: Set<Promise<void>>;
  /** Running JetStream consumers, stopped first on drain so that their acks still go out. */
  readonly consumers: Set<{ stop(): Promise<void> }>;
}
