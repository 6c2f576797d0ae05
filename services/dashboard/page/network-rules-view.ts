// The network-rules panel: the allow matrix of the chart's NetworkPolicies, workload by
// workload, each cell naming the ports a connection may open (as `catmesh netpol matrix`).
import type { NetworkRulesView } from '../src/dashboard-snapshot.js';
import { h } from './dom.js';
import { sourceLine } from './format.js';

export function networkRulesView(rules: NetworkRulesView): Node {
  if (!rules.source.up) {
    return h('p', { class: 'down' }, `✖ ${sourceLine(rules.source)}`);
  }
  return h(
    'div',
    {},
    h(
      'p',
      {},
      `${rules.policies} NetworkPolicies. Rows connect to columns; a cell names the ports allowed, `,
      h('span', { class: 'denied' }, '·'),
      ' means denied.',
    ),
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'matrix', 'aria-label': 'Allow matrix: from (rows) to (columns)' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { scope: 'col' }, 'from \\ to'),
            ...rules.to.map((to) => h('th', { scope: 'col' }, to)),
          ),
        ),
        h(
          'tbody',
          {},
          ...rules.from.map((from, row) =>
            h(
              'tr',
              { 'data-from': from },
              h('th', { scope: 'row' }, from),
              ...rules.to.map((to, column) => {
                const ports = rules.allowed[row]?.[column] ?? [];
                return ports.length > 0
                  ? h('td', { class: 'allowed', 'data-to': to }, `✔ ${ports.join(', ')}`)
                  : h('td', { class: 'denied', 'data-to': to, 'aria-label': 'denied' }, '·');
              }),
            ),
          ),
        ),
      ),
    ),
  );
}
