// One place that decides how hard property-based tests try. The default run is fixed (one seed,
// a modest number of cases) so a failure reproduces and a slow machine never times out;
// `make soak` sets CATMESH_PROPERTY_RUNS (and may set CATMESH_PROPERTY_SEED) to search longer.
import type { Parameters } from 'fast-check';

const DEFAULT_SEED = 20261206;

function positiveInteger(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/**
 * fast-check parameters for a property: `defaultRuns` cases with the fixed seed, or the soak's
 * count and seed when set. A failure prints its seed and path, so `fc.assert` replays it.
 */
export function propertyRuns<T>(defaultRuns: number): Parameters<T> {
  return {
    seed: positiveInteger('CATMESH_PROPERTY_SEED', DEFAULT_SEED),
    numRuns: positiveInteger('CATMESH_PROPERTY_RUNS', defaultRuns),
  };
}
