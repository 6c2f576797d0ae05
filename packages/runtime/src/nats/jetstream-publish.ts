import { context, trace } from '@opentelemetry/api';
import type { JetStreamPublishOptions, PubAck } from 'nats';
import { withDeadline } from '../async/with-deadline.js';
import { NatsUnavailableError, asUnavailable, timeoutReason } from './errors.js';
import type { NatsKit } from './kit.js';
import { recordFailure, startPublishSpan } from './messaging-spans.js';
import { encodePayload, type NatsPayload } from './payload.js';
import type { NatsPublishOptions } from './publish.js';
import { headersWithTraceContext } from './trace-headers.js';
import { admitOutbound } from './traffic-path.js';

export interface NatsJetStreamPublishOptions extends NatsPublishOptions {
  /**
   * De-duplication id (the `Nats-Msg-Id` header): within the stream's duplicate window, a second
   * message with the same id is acknowledged (`duplicate: true`) but not stored again, which makes
   * retrying a publish that timed out safe.
   */
  readonly msgID?: string;
  /** Optimistic-concurrency expectations (last sequence, last msgID, stream name), as JetStream takes them. */
  readonly expect?: JetStreamPublishOptions['expect'];
}

const OPERATION = 'jetstream publish';

/**
 * Publishes to a JetStream stream and resolves with the stream's acknowledgement, or rejects with a
 * NatsUnavailableError within `timeoutMs` when NATS or the stream does not answer. Other JetStream
 * refusals (a failed `expect`, for one) reject with the nats.js error as it is.
 */
export async function jetstreamPublish(
  kit: NatsKit,
  subject: string,
  payload: NatsPayload,
  options: NatsJetStreamPublishOptions = {},
): Promise<PubAck> {
  const data = encodePayload(payload);
  const timeoutMs = options.timeoutMs ?? kit.publishTimeoutMs;
  const span = startPublishSpan({
    subject,
    bodySize: data.byteLength,
    server: kit.nc.getServer(),
    ...(options.msgID !== undefined && { messageId: options.msgID }),
  });
  const situation = () => ({ timeoutMs, connected: kit.status.connected() });
  try {
    if (kit.gate?.armed) {
      await admitOutbound(kit.gate, {
        operation: subject,
        bytes: data.byteLength,
        span,
        timeoutMs,
        timedOut: () => new NatsUnavailableError(OPERATION, subject, timeoutReason(situation())),
        rejected: (reason) => new NatsUnavailableError(OPERATION, subject, reason),
      });
    }
    const publishOptions: Partial<JetStreamPublishOptions> = {
      headers: headersWithTraceContext(
        trace.setSpan(context.active(), span),
        options.headers,
        kit.caller,
      ),
      timeout: timeoutMs,
    };
    if (options.msgID !== undefined) publishOptions.msgID = options.msgID;
    if (options.expect !== undefined) publishOptions.expect = options.expect;
    // nats.js bounds the request itself; the deadline is the guarantee if it ever does not.
    return await withDeadline(
      kit.js.publish(subject, data, publishOptions),
      timeoutMs,
      () => new NatsUnavailableError(OPERATION, subject, timeoutReason(situation())),
    );
  } catch (err) {
    const failure = asUnavailable(err, OPERATION, subject, situation()) ?? err;
    recordFailure(span, failure);
    throw failure;
  } finally {
    span.end();
  }
}
