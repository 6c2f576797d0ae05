// The traces panel: the newest orders whose traces reached the dashboard, and, for the one
// picked, its span tree from PlaceOrder to the apply on every replica, with durations.
import type { OrderTraceView, TraceSpanNode } from '../src/dashboard-snapshot.js';
import { h } from './dom.js';
import { clock, milliseconds } from './format.js';

/** `openTrace`: the order whose tree is shown, pressed in the list. */
export function ordersView(
  orders: readonly OrderTraceView[],
  openTrace: string | undefined,
  open: (traceId: string) => void,
): Node {
  if (orders.length === 0) {
    return h(
      'p',
      {},
      'No order trace received yet. Place an order (catmesh order place --wait); the services send their spans here over OTLP.',
    );
  }
  return h(
    'ul',
    { class: 'orders', 'aria-label': 'Recent orders' },
    ...orders.map((order) => {
      const button = h(
        'button',
        {
          type: 'button',
          'data-trace': order.traceId,
          'aria-pressed': String(order.traceId === openTrace),
        },
        `${clock(order.startedAtMs)} PlaceOrder ${milliseconds(order.durationMs)} · ${order.spans} spans`,
      );
      button.addEventListener('click', () => open(order.traceId));
      return h('li', {}, button);
    }),
  );
}

/** `jaegerUrl`: the Jaeger UI the traces also go to, when one is configured. */
export function spanTreeView(
  traceId: string,
  roots: readonly TraceSpanNode[],
  jaegerUrl: string | undefined,
): Node {
  return h(
    'div',
    { id: 'span-tree', 'data-trace': traceId },
    h('h3', {}, `Trace ${traceId.slice(0, 16)}…`),
    jaegerUrl !== undefined &&
      h(
        'p',
        {},
        h(
          'a',
          {
            class: 'jaeger-link',
            href: `${jaegerUrl}/trace/${encodeURIComponent(traceId)}`,
            target: '_blank',
            rel: 'noopener',
          },
          'Open this trace in Jaeger',
        ),
      ),
    h('ul', { class: 'span-tree', 'aria-label': 'Span tree' }, ...roots.map(spanView)),
  );
}

function spanView(span: TraceSpanNode): Node {
  return h(
    'li',
    { 'data-span': span.name, 'data-instance': span.instance },
    `${span.name} — ${span.instance} — ${milliseconds(span.durationMs)}`,
    span.children.length > 0 && h('ul', {}, ...span.children.map(spanView)),
  );
}
