import { collectDefaultMetrics, Registry } from 'prom-client';

// prom-client's default metrics include three gauges named like counters; `promtool check
// metrics` rejects them ("non-counter metrics should not have _total suffix"), and the same
// numbers are exported without the suffix (nodejs_active_handles, ...), so they are dropped.
const MISNAMED_DEFAULT_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
];

/**
 * The one Prometheus registry of a process, with the standard process and Node.js metrics.
 * It is passed explicitly to whatever records metrics; nothing uses prom-client's global one.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_DEFAULT_GAUGES) registry.removeSingleMetric(name);
  return registry;
}
