// The SLI panel: order success ratio and PlaceOrder p50/p99 over loadgen's window, and cat.state.
import type { CatStateView, SlisView } from '../src/dashboard-snapshot.js';
import { h } from './dom.js';
import { milliseconds, sourceLine } from './format.js';

export function slisView(slis: SlisView, catState: CatStateView): Node {
  const ratio =
    slis.orderSuccessRatio === undefined ? '–' : `${(slis.orderSuccessRatio * 100).toFixed(1)}%`;
  const minutes =
    slis.windowSeconds >= 60
      ? `${Math.round(slis.windowSeconds / 60)} min`
      : `${slis.windowSeconds}s`;
  return h(
    'div',
    {},
    h(
      'dl',
      { class: 'figures' },
      figure('Orders answered', ratio, 'sli-success'),
      figure('PlaceOrder p50', milliseconds(slis.placeOrderP50Ms), 'sli-p50'),
      figure('PlaceOrder p99', milliseconds(slis.placeOrderP99Ms), 'sli-p99'),
      figure('cat.state', catState.value ?? '–', 'cat-state'),
    ),
    h(
      'p',
      {},
      `${slis.orders} orders in the last ${minutes}. `,
      slis.source.up ? '' : h('span', { class: 'down' }, `✖ ${sourceLine(slis.source)}. `),
      catState.source.up
        ? `cat.state read from ${catState.readFrom ?? '?'}.`
        : h('span', { class: 'down' }, `✖ ${sourceLine(catState.source)}`),
    ),
  );
}

function figure(label: string, value: string, id: string): Node {
  return h('div', {}, h('dt', {}, label), h('dd', { id }, value));
}
