import { DebugEvents, Events, type NatsConnection } from 'nats';
import type { Logger } from 'pino';

export interface ConnectionStatus {
  /** Whether the client is connected, as of the last status event it reported. */
  connected(): boolean;
}

/**
 * Follows the client's status events for as long as the connection lives: logs disconnects,
 * reconnects and asynchronous errors, and tracks whether the client is connected so that a failed
 * publish can say "NATS disconnected" rather than just "timed out".
 */
export function watchConnection(nc: NatsConnection, logger: Logger): ConnectionStatus {
  let connected = true;
  const follow = async () => {
    // The iterator ends when the connection closes.
    for await (const status of nc.status()) {
      switch (status.type) {
        case Events.Disconnect:
          connected = false;
          logger.warn({ server: status.data }, 'NATS disconnected; reconnecting');
          break;
        case Events.Reconnect:
          connected = true;
          logger.info({ server: status.data }, 'NATS reconnected');
          break;
        case Events.Error:
          logger.error({ error: status.data }, 'NATS reported an error');
          break;
        case Events.LDM:
          logger.warn({ server: status.data }, 'NATS server is entering lame duck mode');
          break;
        case DebugEvents.StaleConnection:
          logger.warn('NATS connection is stale (server stopped answering pings); reconnecting');
          break;
        default:
          logger.debug({ event: status.type, data: status.data }, 'NATS status');
      }
    }
  };
  void follow().catch((err: unknown) => logger.error({ err }, 'NATS status monitoring failed'));
  void nc.closed().then((err) => {
    connected = false;
    if (err) logger.error({ err }, 'NATS connection closed with an error');
    else logger.info('NATS connection closed');
  });
  return { connected: () => connected };
}
