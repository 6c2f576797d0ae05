// The dashboard page: one snapshot a second from /api/stream, drawn panel by panel. The
// browser's EventSource reconnects by itself when the dashboard restarts.
import type { DashboardSnapshot, SourceStatus, TraceSpanNode } from '../src/dashboard-snapshot.js';
import { fill } from './dom.js';
import { experimentsView } from './experiments-view.js';
import { faultsView } from './faults-view.js';
import { clock, remaining } from './format.js';
import { networkRulesView } from './network-rules-view.js';
import { raftView } from './raft-view.js';
import { slisView } from './slis-view.js';
import { sourcesView } from './sources-view.js';
import { topologyView } from './topology-view.js';
import { ordersView, spanTreeView } from './traces-view.js';

const connection = document.getElementById('connection');
/** The trace picked in the traces panel; its tree is asked for again as more spans arrive. */
let openTrace: string | undefined;
/** How many spans the open trace had when its tree was last asked for. */
let openSpans: number | undefined;
/** The Jaeger UI of the last snapshot, for the span tree's link. */
let jaegerUrl: string | undefined;
/** What each panel drawn only on a change showed last, by its element's id. */
const drawn = new Map<string, string>();

async function showTrace(traceId: string, spans?: number): Promise<void> {
  openTrace = traceId;
  openSpans = spans;
  const response = await fetch(`/api/traces/${encodeURIComponent(traceId)}`);
  if (!response.ok || openTrace !== traceId) return;
  const roots = (await response.json()) as TraceSpanNode[];
  fill('span-tree-holder', spanTreeView(traceId, roots, jaegerUrl));
}

function open(traceId: string, spans?: number): void {
  showTrace(traceId, spans).catch((error: unknown) => {
    fill('span-tree-holder', document.createTextNode(`could not load the trace: ${String(error)}`));
  });
}

/** Where the keyboard focus goes back to after a panel is drawn anew. */
interface KeptFocus {
  /** The attribute naming the item focus was in (`data-trace`: the order). */
  readonly attribute: string;
  /** Within the item, what takes the focus (` a`: its link; '': the item itself). */
  readonly focusable: string;
  /** When the item is gone, focus the panel's first item instead. */
  readonly orFirst?: boolean;
}

/** Fills `id` with `draw()` only when `key` differs from the last one, keeping the focus. */
function drawIfChanged(id: string, key: string, draw: () => Node, keep?: KeptFocus): void {
  if (drawn.get(id) === key) return;
  drawn.set(id, key);
  const item = keep && document.activeElement?.closest(`#${id} [${keep.attribute}]`);
  fill(id, draw());
  if (!keep || !item) return;
  const named = `[${keep.attribute}="${CSS.escape(item.getAttribute(keep.attribute) ?? '')}"]`;
  const again = document.querySelector<HTMLElement>(`#${id} ${named}${keep.focusable}`);
  const first = keep.orFirst
    ? document.querySelector<HTMLElement>(`#${id} [${keep.attribute}]${keep.focusable}`)
    : null;
  (again ?? first)?.focus();
}

/** A panel's content, less when its source was last asked (which changes every second). */
function contentKey(view: { readonly source: SourceStatus }): string {
  return JSON.stringify({ ...view, source: { ...view.source, checkedAtMs: undefined } });
}

function render(snapshot: DashboardSnapshot): void {
  const now = Date.now();
  jaegerUrl = snapshot.jaegerUrl;
  fill('topology', topologyView(snapshot, now));
  fill('raft', raftView(snapshot.raft));
  fill('slis', slisView(snapshot.slis, snapshot.catState));
  fill('faults', faultsView(snapshot.faults, now));
  // Drawn again only when they change (countdowns tick by themselves), so that a report's link
  // keeps the keyboard focus.
  drawIfChanged(
    'experiments',
    contentKey(snapshot.experiments),
    () => experimentsView(snapshot.experiments, now),
    { attribute: 'data-run', focusable: ' a' },
  );
  drawIfChanged('rules', contentKey(snapshot.networkRules), () =>
    networkRulesView(snapshot.networkRules),
  );
  fill('sources', sourcesView(snapshot));
  // Drawn again only when the list changes (with loadgen, every second). The keyboard focus
  // stays on the order it was on, or, if that order left the list, on the newest one.
  drawIfChanged(
    'orders',
    snapshot.orders.map((order) => `${order.traceId}:${order.spans}`).join(','),
    () => ordersView(snapshot.orders, openTrace, open),
    { attribute: 'data-trace', focusable: '', orFirst: true },
  );
  // Asked for again only while the order is listed (so the dashboard still keeps it) and when
  // more of its spans have arrived; an order that left the list keeps the tree last drawn.
  const listed = snapshot.orders.find((order) => order.traceId === openTrace);
  if (listed && listed.spans !== openSpans) open(listed.traceId, listed.spans);
  if (connection) connection.textContent = `live, updated ${clock(snapshot.takenAtMs)}`;
}

const stream = new EventSource('/api/stream');
stream.addEventListener('message', (message: MessageEvent<string>) => {
  render(JSON.parse(message.data) as DashboardSnapshot);
});
stream.addEventListener('error', () => {
  if (connection) connection.textContent = 'connection to the dashboard lost: reconnecting…';
});

// Expiries count down between snapshots too.
setInterval(() => {
  const now = Date.now();
  for (const element of document.querySelectorAll<Element>('[data-expires]')) {
    const left = remaining(Number(element.getAttribute('data-expires')), now);
    // data-ended: what to say once the moment has passed, in place of `expired`.
    const ended = left === 'expired' ? element.getAttribute('data-ended') : null;
    element.textContent = ended ?? `${element.getAttribute('data-prefix') ?? ''}${left}`;
  }
}, 500);
