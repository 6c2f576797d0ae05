// The faults panel: every fault in force, who holds it, what it does and when it expires.
import type { FaultsView } from '../src/dashboard-snapshot.js';
import { h } from './dom.js';
import { remaining } from './format.js';

export function faultsView(faults: FaultsView, nowMs: number): Node {
  const down = faults.sources.filter((source) => !source.up).length;
  if (faults.faults.length === 0) {
    return h(
      'p',
      {},
      'No fault in force: the network between the processes is as good as loopback gets.',
      down > 0
        ? ` (${down} fault admin API${down === 1 ? '' : 's'} not answering: see Sources.)`
        : '',
    );
  }
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { 'aria-label': 'Faults in force' },
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ...['Held by', 'Fault', 'Peers', 'Expires in', 'Experiment'].map((t) =>
            h('th', { scope: 'col' }, t),
          ),
        ),
      ),
      h(
        'tbody',
        {},
        ...faults.faults.map((fault) =>
          h(
            'tr',
            {},
            h('td', {}, fault.instance),
            h('td', { class: 'fault' }, `⚡ ${fault.kind} ${fault.detail}`),
            h('td', {}, fault.peers.length > 0 ? fault.peers.join(', ') : 'every peer'),
            h(
              'td',
              { 'data-expires': String(fault.expiresAtMs) },
              remaining(fault.expiresAtMs, nowMs),
            ),
            h('td', {}, fault.experiment || '–'),
          ),
        ),
      ),
    ),
  );
}
