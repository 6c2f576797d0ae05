import { context } from '@opentelemetry/api';
import {
  AckPolicy,
  DeliverPolicy,
  nanos,
  type ConsumerConfig,
  type ConsumerUpdateConfig,
  type JsMsg,
} from 'nats';
import { createOrUpdate } from './create-or-update.js';
import { withDeadline } from '../async/with-deadline.js';
import type { NatsKit } from './kit.js';
import { recordFailure, startProcessSpan } from './messaging-spans.js';
import { admitInbound } from './traffic-path.js';

/**
 * Handles one JetStream message. Returning acks it; throwing (or rejecting) naks it, so JetStream
 * redelivers it after the consumer's nak delay.
 */
export type NatsJetStreamHandler = (msg: JsMsg) => void | Promise<void>;

export interface NatsConsumerOptions {
  readonly stream: string;
  /** Durable consumer name: its position survives restarts; instances sharing it share the work. */
  readonly durable: string;
  /** Only messages on this subject (wildcards allowed); default: the whole stream. */
  readonly filterSubject?: string;
  readonly handler: NatsJetStreamHandler;
  /** How long after a failed attempt JetStream redelivers the message (default 1000 ms). */
  readonly nakDelayMs?: number;
  /** How long JetStream waits for an ack before redelivering (default 30 000 ms). */
  readonly ackWaitMs?: number;
  /** Deliveries after which JetStream gives up on a message (default: no limit). */
  readonly maxDeliver?: number;
  /** Messages fetched ahead of the handler (default 10). */
  readonly maxMessages?: number;
}

export interface NatsDurableConsumer {
  readonly stream: string;
  readonly durable: string;
  /**
   * Stops consuming: the message being handled finishes and is settled, messages already fetched
   * are nak'ed without delay (so another instance gets them at once), then resolves.
   */
  stop(): Promise<void>;
  /** Settles once the consumer has stopped. */
  readonly closed: Promise<void>;
}

const DEFAULT_NAK_DELAY_MS = 1_000;
const DEFAULT_ACK_WAIT_MS = 30_000;
const DEFAULT_MAX_MESSAGES = 10;

/**
 * Creates or updates a durable pull consumer with explicit acks and processes its messages one at
 * a time, each in a "process" span continuing the producer's trace: acked when the handler returns,
 * nak'ed with a delay when it throws.
 */
export async function startConsumer(
  kit: NatsKit,
  options: NatsConsumerOptions,
): Promise<NatsDurableConsumer> {
  const { stream, durable } = options;
  await ensureConsumer(kit, options);
  const consumer = await kit.js.consumers.get(stream, durable);
  const messages = await consumer.consume({
    max_messages: options.maxMessages ?? DEFAULT_MAX_MESSAGES,
  });
  const log = kit.logger.child({ stream, durable });

  let stopping = false;
  const run = async () => {
    for await (const msg of messages) {
      if (stopping) msg.nak();
      else await handleMessage(kit, msg, options);
    }
  };
  const closed = run().then(
    () => {
      if (!stopping) log.warn('JetStream consumer stopped without being asked to');
    },
    (err: unknown) => log.error({ err }, 'JetStream consumer failed'),
  );
  const handle: NatsDurableConsumer = {
    stream,
    durable,
    closed,
    stop: async () => {
      stopping = true;
      // Ends the iteration after the messages already fetched, which the loop naks, and
      // unsubscribes from the pull requests' inbox.
      messages.stop();
      await Promise.all([closed, confirmUnsubscribed(kit)]);
    },
  };
  kit.consumers.add(handle);
  void closed.then(() => kit.consumers.delete(handle));
  log.info('JetStream consumer started');
  return handle;
}

/**
 * Waits until the server has processed our unsubscribe. Until then, a pull request it still holds
 * for this consumer can take a message published after stop() and strand it, unacked, until its
 * ack wait expires (the server skips pull requests nobody listens to any more).
 */
async function confirmUnsubscribed(kit: NatsKit): Promise<void> {
  try {
    await withDeadline(kit.nc.flush(), kit.requestTimeoutMs, () => new Error('flush timed out'));
  } catch {
    // Disconnected or closed (the server dropped our interest with the connection), or not
    // answering (nothing more we can do): stopping goes on either way.
  }
}

async function ensureConsumer(kit: NatsKit, options: NatsConsumerOptions): Promise<void> {
  const { stream, durable } = options;
  const settings: ConsumerUpdateConfig = {
    ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    ...(options.maxDeliver !== undefined && { max_deliver: options.maxDeliver }),
    ...(options.filterSubject !== undefined && { filter_subject: options.filterSubject }),
  };
  const config: Partial<ConsumerConfig> = {
    ...settings,
    durable_name: durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
  };
  const jsm = await kit.nc.jetstreamManager({ timeout: kit.requestTimeoutMs });
  await createOrUpdate({
    exists: () => jsm.consumers.info(stream, durable),
    create: () => jsm.consumers.add(stream, config),
    update: () => jsm.consumers.update(stream, durable, settings),
  });
}

async function handleMessage(
  kit: NatsKit,
  msg: JsMsg,
  options: NatsConsumerOptions,
): Promise<void> {
  const { span, ctx } = startProcessSpan({
    msg,
    subscribedSubject: options.filterSubject ?? msg.subject,
    server: kit.nc.getServer(),
    consumerGroup: options.durable,
  });
  await context.with(ctx, async () => {
    // A dropped delivery is neither acked nor nak'ed: JetStream redelivers it after its ack wait,
    // as it would a delivery lost on the network.
    if (kit.gate?.armed && !(await admitInbound(kit.gate, msg, span))) {
      span.end();
      return;
    }
    let handled = false;
    try {
      await options.handler(msg);
      handled = true;
    } catch (err) {
      recordFailure(span, err);
      kit.logger.error(
        {
          err,
          stream: options.stream,
          durable: options.durable,
          subject: msg.subject,
          seq: msg.seq,
          deliveries: msg.info.redeliveryCount,
        },
        'JetStream message handler failed; the message will be redelivered',
      );
    }
    try {
      if (handled) msg.ack();
      else msg.nak(options.nakDelayMs ?? DEFAULT_NAK_DELAY_MS);
    } catch (err) {
      // The connection is gone: JetStream redelivers the message once its ack wait expires.
      kit.logger.warn(
        { err, subject: msg.subject, seq: msg.seq },
        'could not settle JetStream message',
      );
    } finally {
      span.end();
    }
  });
}
