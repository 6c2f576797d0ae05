import { ErrorCode, NatsError } from 'nats';

/**
 * NATS could not confirm a message in time: the connection is down, closed or draining, or the
 * server did not answer before the deadline. The outcome of the publish is unknown to the caller
 * (the message may or may not have reached the server), so retrying is the caller's decision; a
 * JetStream publish with a `msgID` can be retried without creating a duplicate.
 */
export class NatsUnavailableError extends Error {
  override readonly name = 'NatsUnavailableError';

  constructor(
    /** What was attempted, e.g. `publish` or `jetstream publish`. */
    readonly operation: string,
    readonly subject: string,
    /** Why, e.g. `NATS disconnected (timed out after 2000 ms)`. */
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${operation} to ${subject} failed: ${reason}`, options);
  }
}

/** The first connection to NATS could not be made within the configured wait. */
export class NatsConnectError extends Error {
  override readonly name = 'NatsConnectError';

  constructor(
    readonly servers: readonly string[],
    /** Why the last attempt failed, e.g. `connection refused`. */
    readonly reason: string,
    readonly waitedMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `cannot connect to NATS at ${servers.join(', ')}: ${reason} (gave up after ${waitedMs} ms)`,
      options,
    );
  }
}

/** What the client knew when a publish failed. */
type Situation = { readonly timeoutMs: number; readonly connected: boolean };

/**
 * The NatsUnavailableError for a publish that failed with `err`, or undefined when `err` is not
 * about NATS being reachable (a bad subject, a failed JetStream expectation): those propagate as
 * they are.
 */
export function asUnavailable(
  err: unknown,
  operation: string,
  subject: string,
  situation: Situation,
): NatsUnavailableError | undefined {
  if (err instanceof NatsUnavailableError) return err;
  if (!(err instanceof NatsError)) return undefined;
  const reason = unavailableReason(err.code, situation);
  return reason === undefined
    ? undefined
    : new NatsUnavailableError(operation, subject, reason, { cause: err });
}

/** Why nothing answered within `timeoutMs`, as precisely as the client knows. */
export function timeoutReason(situation: Situation): string {
  const what = situation.connected ? 'no reply from the NATS server' : 'NATS disconnected';
  return `${what} (timed out after ${situation.timeoutMs} ms)`;
}

/** nats.js error codes (a string, not its enum) that mean NATS is out of reach, and why. */
const UNAVAILABLE_REASONS = new Map<string, (situation: Situation) => string>([
  [ErrorCode.Timeout, timeoutReason],
  [ErrorCode.Disconnect, () => 'NATS disconnected'],
  [ErrorCode.ConnectionClosed, () => 'NATS connection closed'],
  [ErrorCode.ConnectionDraining, () => 'NATS connection is draining'],
  // For a JetStream publish: no stream listens on the subject, or JetStream is not up yet (right
  // after a server restart).
  [
    ErrorCode.NoResponders,
    () =>
      'no JetStream stream answered (no stream captures the subject, or JetStream is not ready)',
  ],
]);

function unavailableReason(code: string, situation: Situation): string | undefined {
  return UNAVAILABLE_REASONS.get(code)?.(situation);
}
