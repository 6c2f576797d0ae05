import { withDeadline } from '../async/with-deadline.js';
import type { NatsKit } from './kit.js';

/**
 * Graceful shutdown, bounded by `timeoutMs`: stops the JetStream consumers (their in-flight
 * messages are settled while the connection is still up), drains the subscriptions (messages
 * already delivered are handled), flushes pending publishes and closes the connection. When the
 * time runs out it closes the connection anyway and logs what happened; it never rejects, so a
 * shutdown sequence always moves on to its next step.
 */
export async function drain(kit: NatsKit, timeoutMs: number): Promise<void> {
  const { nc, logger } = kit;
  try {
    await withDeadline(
      (async () => {
        await Promise.all([...kit.consumers].map((consumer) => consumer.stop()));
        if (!nc.isClosed() && !nc.isDraining()) await nc.drain();
        await Promise.all(kit.subscriptions);
      })(),
      timeoutMs,
      () => new Error(`NATS drain did not finish within ${timeoutMs} ms`),
    );
    logger.info('NATS drained');
  } catch (err) {
    logger.warn({ err }, 'NATS drain incomplete; closing the connection');
  }
  // nats.js gives up on a drain it cannot flush (the server is unreachable) without closing.
  if (!nc.isClosed()) await nc.close();
}
