// The topology panel: every instance as a node, the calls of the service graph as edges
// (thicker with more requests per second), errors and faults written on them, not only coloured.
import type { DashboardSnapshot, EdgeView, FaultView } from '../src/dashboard-snapshot.js';
import { h, s } from './dom.js';
import { rate, remaining } from './format.js';

interface Point {
  readonly x: number;
  readonly y: number;
}

const WIDTH = 800;
const HEIGHT = 460;
/** Wide enough for the longest second line, `pre-candidate · term 12`. */
const NODE_W = 144;
const NODE_H = 44;
/** The replicas sit on a ring: every replica talks to every other. */
const RING = { x: 630, y: 300, radius: 92 };
/** The group's circle, around the ring of replicas. */
const GROUP_RADIUS = RING.radius + 56;
const FIXED: Readonly<Record<string, Point>> = {
  loadgen: { x: 90, y: 200 },
  orders: { x: 320, y: 200 },
  inventory: { x: 630, y: 60 },
};
const GROUP = 'cat-feeder';

export function topologyView(snapshot: DashboardSnapshot, nowMs: number): Node {
  const positions = layout(snapshot);
  const faultById = new Map(snapshot.faults.faults.map((fault) => [fault.id, fault]));
  const maxRate = Math.max(1, ...snapshot.edges.map((edge) => edge.requestsPerSecond ?? 0));
  const svg = s('svg', {
    viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
    role: 'img',
    'aria-label': describe(snapshot),
  });
  const replicas = snapshot.raft.replicas;
  if (replicas.length > 0) {
    svg.append(
      s('circle', { class: 'group', cx: RING.x, cy: RING.y, r: GROUP_RADIUS }),
      s(
        'text',
        { x: RING.x - GROUP_RADIUS - 6, y: RING.y + 18, 'text-anchor': 'end', class: 'edge-label' },
        'any replica',
      ),
    );
  }
  for (const edge of snapshot.edges) {
    const from = positions.get(edge.from);
    const to = positions.get(edge.to);
    if (from && to) svg.append(edgeView(edge, from, to, maxRate, faultById, nowMs));
  }
  for (const name of nodeNames(snapshot)) {
    const at = positions.get(name);
    if (!at) continue;
    const instance = snapshot.instances.find((i) => i.name === name);
    const replica = replicas.find((r) => r.name === name);
    const down = !(instance?.metrics.up ?? false) && !(replica?.status.up ?? false);
    const nodeFaults = snapshot.faults.faults.filter(
      (fault) => fault.instance === name && (fault.kind === 'pause' || fault.peers.length === 0),
    );
    const second = replica?.role
      ? `${replica.role === 'leader' ? '★ leader' : replica.role} · term ${replica.term ?? '?'}`
      : down
        ? '✖ down'
        : `✔ ${rate(instance?.requestsPerSecond)} req/s`;
    const classes = ['node', down && 'is-down', nodeFaults.length > 0 && 'has-fault']
      .filter(Boolean)
      .join(' ');
    const group = s(
      'g',
      { class: classes },
      s('rect', {
        x: at.x - NODE_W / 2,
        y: at.y - NODE_H / 2,
        width: NODE_W,
        height: NODE_H,
        rx: 6,
      }),
      s('text', { x: at.x, y: at.y - 4, 'text-anchor': 'middle' }, name),
      s('text', { x: at.x, y: at.y + 13, 'text-anchor': 'middle', class: 'edge-label' }, second),
    );
    nodeFaults.forEach((fault, index) => {
      group.append(faultLabel(fault, { x: at.x, y: at.y + NODE_H / 2 + 14 + index * 14 }, nowMs));
    });
    svg.append(group);
  }
  return h('div', {}, svg);
}

function edgeView(
  edge: EdgeView,
  from: Point,
  to: Point,
  maxRate: number,
  faultById: ReadonlyMap<string, FaultView>,
  nowMs: number,
): SVGElement {
  const requests = edge.requestsPerSecond ?? 0;
  const errors = edge.errorsPerSecond ?? 0;
  const classes = ['edge', errors > 0 && 'has-errors', edge.faultIds.length > 0 && 'has-fault']
    .filter(Boolean)
    .join(' ');
  const mid = { x: (from.x + to.x) / 2, y: (from.y + to.y) / 2 };
  const group = s(
    'g',
    {},
    s('line', {
      class: classes,
      'data-edge': `${edge.from}→${edge.to}`,
      x1: from.x,
      y1: from.y,
      x2: to.x,
      y2: to.y,
      'stroke-width': 1.5 + (6 * requests) / maxRate,
    }),
  );
  if (edge.requestsPerSecond !== undefined) {
    const label = `${rate(requests)}/s${errors > 0 ? ` ⚠ ${rate(errors)} err/s` : ''}`;
    group.append(
      s('text', { x: mid.x, y: mid.y - 6, 'text-anchor': 'middle', class: 'edge-label' }, label),
    );
  }
  edge.faultIds.forEach((id, index) => {
    const fault = faultById.get(id);
    if (fault) group.append(faultLabel(fault, { x: mid.x, y: mid.y + 10 + index * 14 }, nowMs));
  });
  return group;
}

function faultLabel(fault: FaultView, at: Point, nowMs: number): SVGElement {
  return s(
    'text',
    {
      x: at.x,
      y: at.y,
      'text-anchor': 'middle',
      class: 'fault-label',
      'data-expires': fault.expiresAtMs,
      'data-prefix': `⚡ ${fault.kind} ${fault.detail} · `,
    },
    `⚡ ${fault.kind} ${fault.detail} · ${remaining(fault.expiresAtMs, nowMs)}`,
  );
}

/** Every instance with /metrics, and the replicas even without. */
function nodeNames(snapshot: DashboardSnapshot): string[] {
  const names = snapshot.instances.map((instance) => instance.name);
  for (const replica of snapshot.raft.replicas) {
    if (!names.includes(replica.name)) names.push(replica.name);
  }
  return names;
}

function layout(snapshot: DashboardSnapshot): Map<string, Point> {
  const positions = new Map<string, Point>();
  const replicas = snapshot.raft.replicas;
  replicas.forEach((replica, index) => {
    // Half a step off the left, so that the edges from the clients reach the group, not a replica.
    const angle = Math.PI + (Math.PI * (2 * index + 1)) / replicas.length;
    positions.set(replica.name, {
      x: RING.x + RING.radius * Math.cos(angle),
      y: RING.y + RING.radius * Math.sin(angle),
    });
  });
  positions.set(GROUP, { x: RING.x - GROUP_RADIUS, y: RING.y });
  let spare = 0;
  for (const name of nodeNames(snapshot)) {
    if (positions.has(name)) continue;
    positions.set(name, FIXED[name] ?? { x: 90 + 150 * spare++, y: 420 });
  }
  return positions;
}

function describe(snapshot: DashboardSnapshot): string {
  const down = snapshot.instances.filter((instance) => !instance.metrics.up).map((i) => i.name);
  const faults = snapshot.faults.faults.length;
  return (
    `${snapshot.instances.length} instances` +
    (down.length > 0 ? `, down: ${down.join(', ')}` : ', all answering') +
    `, ${faults} fault${faults === 1 ? '' : 's'} in force`
  );
}
