import { context, trace } from '@opentelemetry/api';
import { withDeadline } from '../async/with-deadline.js';
import { NatsUnavailableError, asUnavailable, timeoutReason } from './errors.js';
import type { NatsKit } from './kit.js';
import { recordFailure, startPublishSpan } from './messaging-spans.js';
import { encodePayload, type NatsPayload } from './payload.js';
import { headersWithTraceContext } from './trace-headers.js';
import { admitOutbound } from './traffic-path.js';

export interface NatsPublishOptions {
  /** Extra headers; the trace context is added to them. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Reject when the server has not confirmed the message within this time (default: the client's). */
  readonly timeoutMs?: number;
}

/**
 * Core NATS publish that resolves once the server has the message and rejects with a
 * NatsUnavailableError within `timeoutMs` otherwise.
 *
 * The nats.js publish only appends to a buffer, silently, even while disconnected (and that
 * buffer is discarded on reconnect); the flush that follows is a PING the server answers only
 * after everything sent before it, so its PONG confirms this message arrived. It says nothing
 * about subscribers: core NATS delivers at most once, to whoever is subscribed right now.
 */
export async function publish(
  kit: NatsKit,
  subject: string,
  payload: NatsPayload,
  options: NatsPublishOptions = {},
): Promise<void> {
  const data = encodePayload(payload);
  const timeoutMs = options.timeoutMs ?? kit.publishTimeoutMs;
  const span = startPublishSpan({ subject, bodySize: data.byteLength, server: kit.nc.getServer() });
  const situation = () => ({ timeoutMs, connected: kit.status.connected() });
  try {
    if (kit.gate?.armed) {
      await admitOutbound(kit.gate, {
        operation: subject,
        bytes: data.byteLength,
        span,
        timeoutMs,
        timedOut: () => new NatsUnavailableError('publish', subject, timeoutReason(situation())),
        rejected: (reason) => new NatsUnavailableError('publish', subject, reason),
      });
    }
    const headers = headersWithTraceContext(
      trace.setSpan(context.active(), span),
      options.headers,
      kit.caller,
    );
    kit.nc.publish(subject, data, { headers });
    await withDeadline(
      kit.nc.flush(),
      timeoutMs,
      () => new NatsUnavailableError('publish', subject, timeoutReason(situation())),
    );
  } catch (err) {
    const failure = asUnavailable(err, 'publish', subject, situation()) ?? err;
    recordFailure(span, failure);
    throw failure;
  } finally {
    span.end();
  }
}
