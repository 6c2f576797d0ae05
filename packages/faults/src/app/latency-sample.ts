import type { LatencyDistribution } from './app-fault.js';

/** The Pareto (Lomax) tail's shape: > 2, so the spread is finite; its mean excess is `jitterMs`. */
const PARETO_SHAPE = 3;

/**
 * One delay in whole milliseconds, never negative: uniform in delay ± jitter; normal with mean
 * delay and standard deviation jitter; or delay plus a Pareto tail whose mean is jitter (most
 * calls near delay, a few far slower).
 */
export function sampleLatencyMs(
  delayMs: number,
  jitterMs: number,
  distribution: LatencyDistribution,
  random: () => number,
): number {
  if (jitterMs === 0) return delayMs;
  let value: number;
  switch (distribution) {
    case 'uniform':
      value = delayMs + (2 * random() - 1) * jitterMs;
      break;
    case 'normal':
      value = delayMs + jitterMs * standardNormal(random);
      break;
    case 'pareto': {
      const scale = jitterMs * (PARETO_SHAPE - 1);
      value = delayMs + scale * ((1 - random()) ** (-1 / PARETO_SHAPE) - 1);
      break;
    }
  }
  return Math.max(0, Math.round(value));
}

/** Box–Muller. */
function standardNormal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}
