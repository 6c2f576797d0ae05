export interface ReconnectBackoff {
  /** Delay before the first retry, in milliseconds. */
  readonly initialDelayMs: number;
  /** The delay doubles per failed attempt up to this cap. */
  readonly maxDelayMs: number;
}

/**
 * Milliseconds to wait before reconnect attempt `attempt` (0-based): exponential, capped, with
 * "equal jitter" (half fixed, half random) so replicas that lost a peer at the same moment do not
 * reconnect in lockstep, yet never retry in a tight loop.
 */
export function reconnectDelay(
  attempt: number,
  backoff: ReconnectBackoff,
  random: () => number,
): number {
  const cap = Math.min(backoff.maxDelayMs, backoff.initialDelayMs * 2 ** Math.min(attempt, 30));
  return cap / 2 + random() * (cap / 2);
}
