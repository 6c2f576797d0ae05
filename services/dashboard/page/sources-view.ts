// The sources panel: every source the dashboard polls, up, or down with the reason.
import type { DashboardSnapshot, SourceStatus } from '../src/dashboard-snapshot.js';
import { h } from './dom.js';
import { rate, sourceLine } from './format.js';

export function sourcesView(snapshot: DashboardSnapshot): Node {
  const instanceLines = snapshot.instances.map((instance) =>
    h(
      'li',
      { 'data-instance': instance.name, class: instance.metrics.up ? 'up' : 'down' },
      instance.metrics.up
        ? `✔ ${instance.name}: up, ${rate(instance.requestsPerSecond)} req/s, ${rate(instance.errorsPerSecond)} errors/s`
        : `✖ ${instance.name}: down (${instance.metrics.reason ?? '?'})`,
    ),
  );
  const others: SourceStatus[] = [
    ...snapshot.raft.replicas.map((replica) => replica.status),
    ...snapshot.faults.sources,
    snapshot.catState.source,
    snapshot.experiments.source,
    snapshot.networkRules.source,
  ];
  return h(
    'div',
    {},
    h('h3', {}, 'Instances (their /metrics)'),
    h('ul', { class: 'sources', 'aria-label': 'Instances' }, ...instanceLines),
    h('h3', {}, 'Other sources'),
    h(
      'ul',
      { class: 'sources', 'aria-label': 'Other sources' },
      ...others.map((status) =>
        h(
          'li',
          { class: status.up ? 'up' : 'down' },
          `${status.up ? '✔' : '✖'} ${sourceLine(status)}`,
        ),
      ),
    ),
  );
}
