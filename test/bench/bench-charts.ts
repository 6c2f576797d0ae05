// The benchmark's figures as SVG line charts, written by hand (no chart library to install or
// keep up to date): one small panel per operation and placement, etcd and cat-feeder as a line
// each over the client counts, each point a cell's median round and its bar the min–max of all
// its rounds, so that the spread is seen together with the trend.
import { basename, dirname, extname, join } from 'node:path';
import type { Placement } from './bench-options.js';
import { count, ms, OP_LABEL, type CellSummary, type Op } from './bench-report.js';
import type { TargetName } from './kv-target.js';

export type ChartMetric = 'throughput' | 'p99';

interface Metric {
  readonly title: string;
  /** The figure's name in a sentence. */
  readonly short: string;
  /** Which figure a point is, given its cell's rounds ("3 rounds"). */
  readonly point: (rounds: string) => string;
  readonly axis: string;
  readonly unit: string;
  readonly format: (n: number) => string;
  readonly median: (s: CellSummary) => number;
  readonly min: (s: CellSummary) => number;
  readonly max: (s: CellSummary) => number;
}

const METRICS: Record<ChartMetric, Metric> = {
  throughput: {
    title: 'Throughput (ops/s)',
    short: 'ops/s',
    point: (rounds) => `the median ops/s of its cell's ${rounds}`,
    axis: 'ops/s',
    unit: 'ops/s',
    format: count,
    median: (s) => s.median.opsPerSecond,
    min: (s) => s.minOpsPerSecond,
    max: (s) => s.maxOpsPerSecond,
  },
  p99: {
    title: 'p99 latency (ms)',
    short: 'p99',
    point: (rounds) => `the p99 of the round with the median ops/s of its cell's ${rounds}`,
    axis: 'p99 latency (ms)',
    unit: 'ms',
    format: ms,
    median: (s) => s.median.p99Ms,
    min: (s) => s.minP99Ms,
    max: (s) => s.maxP99Ms,
  },
};

/** Okabe–Ito colours, safe for colour-blind readers; marker and dash tell the lines apart in grey. */
const STYLE: Record<TargetName, { colour: string; dash?: string; marker: 'circle' | 'square' }> = {
  etcd: { colour: '#0072B2', marker: 'circle' },
  'cat-feeder': { colour: '#D55E00', dash: '6 3', marker: 'square' },
};

const OPS: readonly Op[] = ['put', 'get'];
const PLACEMENTS: readonly Placement[] = ['leader', 'spread'];
const PLACEMENT_LABEL: Record<Placement, string> = {
  leader: 'to the leader',
  spread: 'spread over the members',
};

/** One panel's box and its plot area's margins inside it, in px. */
const PANEL = { width: 430, height: 260, left: 70, right: 18, top: 30, bottom: 48 };
const GAP = 20;
const MARGIN = 16;
/** Title, subtitle and legend above the panels. */
const HEADER = 118;
/** Horizontal distance between the targets' points at one client count, so their bars don't hide each other. */
const DODGE = 7;

/** The charts' files beside the report: docs/benchmarks.md → docs/benchmarks-throughput.svg, … */
export function chartFiles(reportFile: string): Record<ChartMetric, string> {
  const base = join(dirname(reportFile), basename(reportFile, extname(reportFile)));
  return { throughput: `${base}-throughput.svg`, p99: `${base}-p99.svg` };
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}

type Attributes = Record<string, string | number | undefined>;

/** Coordinates to a tenth of a pixel: finer is invisible and only makes the file bigger. */
const px = (n: number) => String(Math.round(n * 10) / 10);

/** An element whose attributes are escaped; `children` is markup, already escaped. */
function element(name: string, attributes: Attributes, children?: string): string {
  const attrs = Object.entries(attributes)
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXml(typeof v === 'number' ? px(v) : v)}"`)
    .join('');
  return children === undefined ? `<${name}${attrs}/>` : `<${name}${attrs}>${children}</${name}>`;
}

const text = (x: number, y: number, content: string, attributes: Attributes = {}) =>
  element('text', { x, y, ...attributes }, escapeXml(content));

/** 0 up to at least `max` in steps of 1, 2 or 5 × 10^k, about five of them. */
export function niceTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= rough)!;
  const steps = Math.ceil(max / step - 1e-9);
  return Array.from({ length: steps + 1 }, (_, i) => Number((i * step).toPrecision(12)));
}

/** Tick labels with as many decimals as the step needs, and thousands separators. */
function tickFormat(ticks: readonly number[]): (n: number) => string {
  const step = ticks[1]! - ticks[0]!;
  const decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
  return (n) =>
    n.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Maps client counts onto [from, to] on a log scale, with a little room at both ends. */
function logScale(values: readonly number[], from: number, to: number): (v: number) => number {
  let lo = Math.log(Math.min(...values));
  let hi = Math.log(Math.max(...values));
  if (hi === lo) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.06;
  return (v) => from + ((Math.log(v) - lo + pad) / (hi - lo + 2 * pad)) * (to - from);
}

function marker(target: TargetName, x: number, y: number): string {
  const { colour, marker: shape } = STYLE[target];
  return shape === 'circle'
    ? element('circle', { cx: x, cy: y, r: 4, fill: colour })
    : element('rect', { x: x - 3.5, y: y - 3.5, width: 7, height: 7, fill: colour });
}

/** A vertical bar from `top` to `bottom` with caps, at `x`. */
function errorBar(colour: string, x: number, top: number, bottom: number): string {
  const d = `M${px(x)} ${px(top)}V${px(bottom)}M${px(x - 4)} ${px(top)}H${px(x + 4)}M${px(x - 4)} ${px(bottom)}H${px(x + 4)}`;
  return element('path', { d, stroke: colour, 'stroke-width': 1.2, fill: 'none' });
}

interface PanelSpec {
  readonly op: Op;
  readonly placement: Placement;
  readonly x: number;
  readonly y: number;
  readonly metric: Metric;
  readonly targets: readonly TargetName[];
  readonly clients: readonly number[];
  /** The y axis's ticks, the same in every panel so that panels compare at a glance. */
  readonly ticks: readonly number[];
  readonly cells: readonly CellSummary[];
}

function panel(p: PanelSpec): string {
  const left = p.x + PANEL.left;
  const right = p.x + PANEL.width - PANEL.right;
  const top = p.y + PANEL.top;
  const bottom = p.y + PANEL.height - PANEL.bottom;
  const xOf = logScale(p.clients, left, right);
  const { ticks } = p;
  const yMax = ticks[ticks.length - 1]!;
  const yOf = (v: number) => bottom - (v / yMax) * (bottom - top);
  const tickLabel = tickFormat(ticks);
  const parts: string[] = [
    text(left, p.y + 18, `${OP_LABEL[p.op]}, ${PLACEMENT_LABEL[p.placement]}`, {
      'font-size': 14,
      'font-weight': 'bold',
    }),
  ];
  for (const t of ticks) {
    parts.push(
      element('line', { x1: left, x2: right, y1: yOf(t), y2: yOf(t), stroke: '#e3e3e3' }),
      text(left - 6, yOf(t), tickLabel(t), { 'text-anchor': 'end', dy: '0.35em' }),
    );
  }
  for (const c of p.clients) {
    parts.push(
      element('line', { x1: xOf(c), x2: xOf(c), y1: bottom, y2: bottom + 4, stroke: '#333' }),
      text(xOf(c), bottom + 17, String(c), { 'text-anchor': 'middle' }),
    );
  }
  parts.push(
    element('path', {
      d: `M${px(left)} ${px(top)}V${px(bottom)}H${px(right)}`,
      stroke: '#333',
      fill: 'none',
    }),
    text((left + right) / 2, bottom + 38, 'concurrent clients (log scale)', {
      'text-anchor': 'middle',
    }),
    text(0, 0, p.metric.axis, {
      'text-anchor': 'middle',
      transform: `translate(${px(p.x + 16)} ${px((top + bottom) / 2)}) rotate(-90)`,
    }),
  );
  p.targets.forEach((target, index) => {
    const style = STYLE[target];
    const dodge = (index - (p.targets.length - 1) / 2) * DODGE;
    const cells = p.cells.filter((c) => c.target === target).sort((a, b) => a.clients - b.clients);
    const points = cells.map((c) => [xOf(c.clients) + dodge, yOf(p.metric.median(c))] as const);
    const series = [
      element('polyline', {
        class: 'series',
        'data-target': target,
        points: points.map(([x, y]) => `${px(x)},${px(y)}`).join(' '),
        fill: 'none',
        stroke: style.colour,
        'stroke-width': 2,
        'stroke-dasharray': style.dash,
      }),
    ];
    cells.forEach((c, i) => {
      const [x, y] = points[i]!;
      const [min, max] = [p.metric.min(c), p.metric.max(c)];
      const { format, unit } = p.metric;
      const tooltip =
        `${target}, ${OP_LABEL[p.op]} ${PLACEMENT_LABEL[p.placement]}, ${c.clients} clients: ` +
        `${format(p.metric.median(c))} ${unit} (${c.rounds} rounds: ${format(min)} – ${format(max)})`;
      series.push(
        element(
          'g',
          { class: 'point', 'data-target': target },
          element('title', {}, escapeXml(tooltip)) +
            (max > min ? errorBar(style.colour, x, yOf(max), yOf(min)) : '') +
            marker(target, x, y),
        ),
      );
    });
    parts.push(...series);
  });
  return element(
    'g',
    { class: 'panel', 'data-op': p.op, 'data-placement': p.placement },
    parts.join(''),
  );
}

/** What a point and its bar are, in two lines, with the number of rounds if every cell had the same. */
function roundsNote(summaries: readonly CellSummary[], metric: Metric): [string, string] {
  const same = 'The y axis is the same in every panel.';
  const counts = [...new Set(summaries.map((s) => s.rounds))];
  if (counts.length === 1 && counts[0] === 1) {
    return [`Each point: the ${metric.short} of its cell's one round.`, same];
  }
  const n = counts.length === 1 ? counts[0]! : undefined;
  const rounds = n === undefined ? 'rounds' : `${n} rounds`;
  const even = n === undefined || n % 2 === 0 ? ' (the lower middle one)' : '';
  return [
    `Each point: ${metric.point(rounds)}${even}.`,
    `Bars: min–max of the ${metric.short} over the ${rounds}. ${same}`,
  ];
}

function legend(targets: readonly TargetName[], y: number): string {
  const parts: string[] = [];
  let x = MARGIN;
  for (const target of targets) {
    const style = STYLE[target];
    parts.push(
      element('line', {
        x1: x,
        x2: x + 30,
        y1: y,
        y2: y,
        stroke: style.colour,
        'stroke-width': 2,
        'stroke-dasharray': style.dash,
      }),
      marker(target, x + 15, y),
      text(x + 38, y, target, { dy: '0.35em', 'font-size': 13 }),
    );
    x += 38 + target.length * 8 + 24;
  }
  parts.push(
    errorBar('#555', x + 4, y - 8, y + 8),
    text(x + 14, y, 'min–max of the rounds', { dy: '0.35em', 'font-size': 13 }),
  );
  return element('g', { class: 'legend' }, parts.join(''));
}

/** The chart of `metric` for every operation × placement measured, as a standalone SVG file. */
export function chartSvg(summaries: readonly CellSummary[], metric: ChartMetric): string {
  const m = METRICS[metric];
  const ops = OPS.filter((op) => summaries.some((s) => s.op === op));
  const placements = PLACEMENTS.filter((pl) => summaries.some((s) => s.placement === pl));
  const targets = [...new Set(summaries.map((s) => s.target))];
  const clients = [...new Set(summaries.map((s) => s.clients))].sort((a, b) => a - b);
  const width =
    2 * MARGIN + placements.length * PANEL.width + Math.max(0, placements.length - 1) * GAP;
  const height = HEADER + ops.length * PANEL.height + Math.max(0, ops.length - 1) * GAP + MARGIN;
  const title = `cat-feeder vs etcd: ${m.title} against concurrent clients`;
  const ticks = niceTicks(Math.max(...summaries.map(m.max)));
  const panels = ops.flatMap((op, row) =>
    placements.map((placement, column) =>
      panel({
        op,
        placement,
        x: MARGIN + column * (PANEL.width + GAP),
        y: HEADER + row * (PANEL.height + GAP),
        metric: m,
        targets,
        clients,
        ticks,
        cells: summaries.filter((s) => s.op === op && s.placement === placement),
      }),
    ),
  );
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    element(
      'svg',
      {
        xmlns: 'http://www.w3.org/2000/svg',
        width,
        height,
        viewBox: `0 0 ${width} ${height}`,
        'font-family': 'Helvetica, Arial, sans-serif',
        'font-size': 12,
        fill: '#222',
      },
      [
        element('title', {}, escapeXml(title)),
        // Opaque, so that the chart stays readable on a dark page.
        element('rect', { width, height, fill: '#fff' }),
        text(MARGIN, 30, title, { 'font-size': 18, 'font-weight': 'bold' }),
        ...roundsNote(summaries, m).map((line, i) =>
          text(MARGIN, 52 + i * 18, line, { 'font-size': 13, fill: '#555' }),
        ),
        legend(targets, 96),
        ...panels,
      ].join('\n'),
    ),
    '',
  ].join('\n');
}
