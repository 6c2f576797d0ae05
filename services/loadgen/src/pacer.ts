/**
 * Calls `fire` `perSecond` times a second, evenly, for as long as it runs: open loop, so a slow
 * system gets the same offered load (the caller decides what to do with calls it cannot start).
 * Due calls are counted from the start, so timer jitter never drifts the rate.
 */
export function startPacer(perSecond: number, fire: () => void): { stop(): void } {
  if (perSecond <= 0) return { stop: () => undefined };
  const tickMs = Math.min(100, Math.max(5, 1000 / perSecond));
  const startedAt = performance.now();
  let fired = 0;
  const timer = setInterval(() => {
    const due = Math.floor(((performance.now() - startedAt) / 1000) * perSecond);
    for (; fired < due; fired++) fire();
  }, tickMs);
  return { stop: () => clearInterval(timer) };
}
