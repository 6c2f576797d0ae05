import { context } from '@opentelemetry/api';
import type { Msg } from 'nats';
import type { NatsKit } from './kit.js';
import { recordFailure, startProcessSpan } from './messaging-spans.js';
import { admitInbound } from './traffic-path.js';

/** Handles one message; a throw (or rejection) is recorded and logged, never fatal. */
export type NatsMessageHandler = (msg: Msg) => void | Promise<void>;

export interface NatsSubscribeOptions {
  /** Queue group: each message goes to one member of the group instead of to every subscriber. */
  readonly queue?: string;
}

export interface NatsSubscription {
  readonly subject: string;
  /** Stops taking messages, lets those already delivered be handled, then resolves. */
  drain(): Promise<void>;
  /** Settles once the subscription has closed and its last handler has returned. */
  readonly closed: Promise<void>;
}

/**
 * Subscribes to `subject` (wildcards allowed) and runs `handler` for each message, one at a time
 * in arrival order, inside a "process" span continuing the producer's trace. The subscription
 * survives reconnects: nats.js subscribes again on every new connection.
 */
export function subscribe(
  kit: NatsKit,
  subject: string,
  handler: NatsMessageHandler,
  options: NatsSubscribeOptions = {},
): NatsSubscription {
  const sub = kit.nc.subscribe(
    subject,
    options.queue !== undefined ? { queue: options.queue } : {},
  );
  const run = async () => {
    for await (const msg of sub) {
      await handleMessage(kit, msg, subject, options.queue, handler);
    }
  };
  const closed = run().catch((err: unknown) =>
    kit.logger.error({ err, subject }, 'NATS subscription failed'),
  );
  kit.subscriptions.add(closed);
  void closed.then(() => kit.subscriptions.delete(closed));
  return {
    subject,
    closed,
    drain: async () => {
      if (!sub.isClosed() && !sub.isDraining()) await sub.drain();
      await closed;
    },
  };
}

async function handleMessage(
  kit: NatsKit,
  msg: Msg,
  subscribedSubject: string,
  queue: string | undefined,
  handler: NatsMessageHandler,
): Promise<void> {
  const { span, ctx } = startProcessSpan({
    msg,
    subscribedSubject,
    server: kit.nc.getServer(),
    ...(queue !== undefined && { consumerGroup: queue }),
  });
  // Inside the span's context, so that the handler's spans nest under it and the error log below
  // carries its trace id.
  await context.with(ctx, async () => {
    try {
      if (kit.gate?.armed && !(await admitInbound(kit.gate, msg, span))) return;
      await handler(msg);
    } catch (err) {
      recordFailure(span, err);
      kit.logger.error({ err, subject: msg.subject }, 'NATS message handler failed');
    } finally {
      span.end();
    }
  });
}
