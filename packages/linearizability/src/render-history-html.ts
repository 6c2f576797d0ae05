// A self-contained HTML page (inline SVG and CSS, nothing fetched) showing a history the way
// Porcupine's visualisation does: one lane per process, each operation a bar from invoke to
// return. Bars are placed by the order of events rather than to scale, so that short operations
// stay readable next to long ones; real times are in the axis, the tooltips and the text.

import type { CheckResult, KeyVerdict, LinearizabilityFailure } from './check-kv-history.js';
import {
  operationLabel,
  outcomeLabel,
  processText,
  timeFormat,
  valueText,
  type TimeFormat,
} from './describe.js';
import type { History, KvOperationRecord, OperationId, ProcessId } from './history.js';
import { historyOperations } from './history-operations.js';

export interface RenderOptions {
  /** The result of `checkKvHistory` for this history: adds verdicts, order and the failure. */
  readonly result?: CheckResult;
  /** The key to draw; by default the failing key if there is one, else every key. */
  readonly key?: string;
  readonly title?: string;
  /** At most this many operations are drawn per key (those nearest the failure); default 400. */
  readonly maxOperations?: number;
}

export function renderHistoryHtml(history: History, options: RenderOptions = {}): string {
  const { result } = options;
  const time = timeFormat(history);
  const byKey = new Map<string, KvOperationRecord[]>();
  for (const record of historyOperations(history)) {
    const list = byKey.get(record.op.key) ?? [];
    list.push(record);
    byKey.set(record.op.key, list);
  }
  const keys =
    options.key !== undefined
      ? [options.key]
      : result?.failure !== undefined
        ? [result.failure.key]
        : [...byKey.keys()];
  const title = options.title ?? 'Linearizability check';

  const sections = keys.map((key, i) =>
    renderKey(key, byKey.get(key) ?? [], result, time, options.maxOperations ?? 400, `k${i}`),
  );
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escape(title)}</h1>
${result === undefined ? '' : summary(result)}
<p class="note">One lane per process; each bar runs from the operation's invocation to its response.
Bars are placed in the order of events, not to scale; times are relative to the first event.</p>
${sections.join('\n')}
<script>
// Wide diagrams open scrolled to the operation that cannot be linearized.
for (const bar of document.querySelectorAll('.culprit')) bar.scrollIntoView({ block: 'nearest', inline: 'nearest' });
</script>
</body>
</html>
`;
}

const STYLE = `
body { font: 15px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px; color: #1d2430; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 18px; margin: 28px 0 8px; }
.note { color: #555; font-size: 13px; margin: 4px 0; }
.verdict { display: inline-block; padding: 1px 10px; border-radius: 10px; font-weight: 600; color: #fff; }
.v-ok { background: #2e7d32; } .v-illegal { background: #c62828; } .v-unknown { background: #8d6e00; }
.explanation { border-left: 5px solid #c62828; background: #fdf0f0; padding: 10px 14px; max-width: 1100px; margin: 10px 0; }
.legend { font-size: 13px; margin: 8px 0; display: flex; gap: 18px; flex-wrap: wrap; }
.legend span::before { content: ''; display: inline-block; width: 18px; height: 12px; margin-right: 6px; vertical-align: -1px; border: 2px solid var(--s); background: var(--f); border-radius: 3px; }
.diagram { display: flex; border: 1px solid #ddd; border-radius: 6px; overflow: hidden; }
.names { flex: none; border-right: 1px solid #ddd; } .scroll { overflow-x: auto; flex: 1; }
table { border-collapse: collapse; font-size: 14px; } td, th { padding: 2px 12px 2px 0; text-align: left; }
`;

function summary(result: CheckResult): string {
  const rows = result.keys
    .map(
      (k: KeyVerdict) =>
        `<tr><td>${escape(k.key)}</td><td>${badge(k.verdict)}</td><td>${k.operations} operations</td></tr>`,
    )
    .join('');
  return `<p>Verdict: ${badge(result.verdict)}</p>${
    result.keys.length > 1
      ? `<table><tr><th>key</th><th>verdict</th><th></th></tr>${rows}</table>`
      : ''
  }`;
}

function badge(verdict: string): string {
  return `<span class="verdict v-${verdict}">${verdict}</span>`;
}

type Role = 'culprit' | 'related' | 'next' | 'placed' | 'plain' | 'failed' | 'unknown';

const COLORS: Record<Role, { fill: string; stroke: string; dash?: string; width?: number }> = {
  culprit: { fill: '#fbd0d0', stroke: '#c62828', width: 3 },
  related: { fill: '#d6e6fb', stroke: '#1565c0', width: 3 },
  next: { fill: '#fdebd0', stroke: '#e08a00', dash: '6 3', width: 2 },
  placed: { fill: '#dcefdc', stroke: '#3f7f3f' },
  plain: { fill: '#e9edf3', stroke: '#6b7f99' },
  failed: { fill: '#f4f4f4', stroke: '#a0a0a0', dash: '4 3' },
  unknown: { fill: '#eeeeee', stroke: '#777', dash: '6 4' }, // drawn fading out to the right
};

function legend(failure: LinearizabilityFailure | undefined): string {
  const item = (role: Role, text: string): string =>
    `<span style="--f:${COLORS[role].fill};--s:${COLORS[role].stroke}">${text}</span>`;
  return `<div class="legend">${[
    failure === undefined ? item('placed', 'numbered: a valid order found') : '',
    failure === undefined ? '' : item('placed', 'numbered: the longest valid order found'),
    failure === undefined ? '' : item('culprit', 'cannot come next'),
    failure === undefined ? '' : item('related', 'cited in the explanation'),
    failure === undefined ? '' : item('next', 'could come next, dead end too'),
    item('unknown', 'outcome unknown (may take effect any time after, or never)'),
    item('failed', 'failed: did not happen'),
  ].join('')}</div>`;
}

function renderKey(
  key: string,
  all: readonly KvOperationRecord[],
  result: CheckResult | undefined,
  time: TimeFormat,
  maxOperations: number,
  idPrefix: string,
): string {
  const verdict = result?.keys.find((k) => k.key === key);
  const failure = result?.failure?.key === key ? result.failure : undefined;
  const order = new Map<OperationId, number>();
  (failure?.linearized.map((r) => r.id) ?? verdict?.linearization ?? []).forEach((id, i) =>
    order.set(id, i + 1),
  );
  const roles = new Map<OperationId, Role>();
  if (failure !== undefined) {
    // Operations of unknown outcome could always come next; they keep their own look.
    for (const r of failure.next) if (r.outcome === 'ok') roles.set(r.id, 'next');
    for (const r of failure.related) roles.set(r.id, 'related');
    roles.set(failure.culprit.id, 'culprit');
  }
  const roleOf = (r: KvOperationRecord): Role =>
    roles.get(r.id) ??
    (r.outcome === 'fail'
      ? 'failed'
      : r.outcome === 'info'
        ? 'unknown'
        : order.has(r.id)
          ? 'placed'
          : 'plain');

  const shown = selectOperations(all, failure, maxOperations);
  const heading = `<h2>Key ${escape(key)} ${verdict === undefined ? '' : badge(verdict.verdict)}</h2>`;
  const explanation =
    failure === undefined ? '' : `<p class="explanation">${escape(failure.explanation)}</p>`;
  const state =
    failure === undefined
      ? ''
      : `<p class="note">${
          failure.linearized.length === 0
            ? 'The search ran out of time before finding where it gets stuck; the contradiction above is visible in real time alone.'
            : `After the ${failure.linearized.length} numbered operations ${
                failure.valueAfter === null
                  ? 'the key is absent'
                  : `the value is ${escape(valueText(failure.valueAfter))}`
              }.`
        }</p>`;
  const cut =
    shown.length < all.length
      ? `<p class="note">Showing ${shown.length} of ${all.length} operations on this key${failure === undefined ? '' : ', those nearest the failure'}.</p>`
      : '';
  return `<section>${heading}${explanation}${state}${cut}${legend(failure)}
${diagram(shown, roleOf, order, time, idPrefix)}</section>`;
}

/** The operations to draw: all if few, else those invoked nearest the failure (or the first). */
function selectOperations(
  all: readonly KvOperationRecord[],
  failure: LinearizabilityFailure | undefined,
  max: number,
): readonly KvOperationRecord[] {
  if (all.length <= max) return all;
  if (failure === undefined) return all.slice(0, max);
  const center = failure.culprit.invokedAt;
  const must = new Set<OperationId>([failure.culprit.id, ...failure.related.map((r) => r.id)]);
  const chosen = new Set(
    [...all]
      .sort(
        (a, b) =>
          Number(must.has(b.id)) - Number(must.has(a.id)) ||
          Math.abs(a.invokedAt - center) - Math.abs(b.invokedAt - center),
      )
      .slice(0, max),
  );
  return all.filter((r) => chosen.has(r));
}

const LANE = 62;
const BAR = 38;
const LEFT = 10; // the process names are in a column of their own, which does not scroll
const NAMES = 140;
const TOP = 14;
const AXIS = 44;
const CHAR = 6.7; // width of a character of the 11.5px monospace labels

function diagram(
  records: readonly KvOperationRecord[],
  roleOf: (r: KvOperationRecord) => Role,
  order: ReadonlyMap<OperationId, number>,
  time: TimeFormat,
  /** Element ids are global to the page, which may hold several diagrams. */
  idPrefix: string,
): string {
  const processes: ProcessId[] = [];
  for (const r of records) if (!processes.includes(r.process)) processes.push(r.process);
  const end = (r: KvOperationRecord): number | undefined =>
    r.outcome === 'info' ? undefined : r.completedAt;
  const times = [...new Set(records.flatMap((r) => [r.invokedAt, end(r) ?? r.invokedAt]))].sort(
    (a, b) => a - b,
  );
  const rank = new Map(times.map((t, i) => [t, i]));

  // Wide enough slots that every label fits inside its bar, within reason.
  let slot = 40;
  for (const r of records) {
    const finish = end(r);
    const slots =
      finish === undefined ? 2 : Math.max(1, rank.get(finish)! - rank.get(r.invokedAt)!);
    const text = Math.max(operationLabel(r.op).length, outcomeLabel(r).length) * CHAR + 16;
    slot = Math.max(slot, Math.min(150, text / slots));
  }
  const x = (t: number): number => LEFT + 30 + rank.get(t)! * slot;
  const openEnd = LEFT + 30 + (times.length - 1) * slot + slot * 1.6;
  const width = Math.ceil(openEnd + 30);

  // A process that goes on after an operation of unknown outcome (whose bar runs to the right
  // edge) needs a second row in its lane, so that no bar hides another.
  const rowEnds = new Map<ProcessId, number[]>(processes.map((p) => [p, []]));
  const placed = records.map((r) => {
    const finish = end(r);
    const x1 = x(r.invokedAt) + 2;
    const x2 = Math.max(x1 + 8, finish === undefined ? openEnd : x(finish) - 2);
    const ends = rowEnds.get(r.process)!;
    let row = ends.findIndex((e) => e < x1);
    if (row === -1) row = ends.length;
    ends[row] = x2;
    return { r, x1, x2, row };
  });
  const laneTop = new Map<ProcessId, number>();
  let bottom = TOP;
  for (const p of processes) {
    laneTop.set(p, bottom);
    bottom += rowEnds.get(p)!.length * LANE;
  }
  const height = bottom + AXIS;

  const stripe = (p: ProcessId, i: number, w: number): string =>
    `<rect x="0" y="${laneTop.get(p)!}" width="${w}" height="${rowEnds.get(p)!.length * LANE}" fill="${i % 2 === 0 ? '#f5f7fa' : '#ffffff'}"/>`;
  const lanes = processes.map((p, i) => stripe(p, i, width)).join('');
  const names = processes
    .map(
      (p, i) =>
        `${stripe(p, i, NAMES)}<text x="12" y="${laneTop.get(p)! + (rowEnds.get(p)!.length * LANE) / 2 + 5}" class="lane">${escape(processText(p))}</text>`,
    )
    .join('');

  const bars = placed
    .map(({ r, x1, x2, row }, i) => {
      const role = roleOf(r);
      const color = COLORS[role];
      const y = laneTop.get(r.process)! + row * LANE + (LANE - BAR) / 2 + 2;
      const finish = end(r);
      const w = x2 - x1;
      const n = order.get(r.id);
      const tip = tooltip(r, time, n);
      const stroke = `stroke="${color.stroke}" stroke-width="${color.width ?? 1.5}"${color.dash === undefined ? '' : ` stroke-dasharray="${color.dash}"`}`;
      const text = role === 'failed' ? '#888' : '#1d2430';
      const weight = role === 'culprit' ? ' font-weight="bold"' : '';
      const id = role === 'culprit' ? ` id="${idPrefix}-culprit" class="culprit"` : '';
      return `<g${id}><title>${escape(tip)}</title>
<clipPath id="${idPrefix}-c${i}"><rect x="${x1}" y="${y}" width="${w}" height="${BAR}"/></clipPath>
<rect x="${x1}" y="${y}" width="${w}" height="${BAR}" rx="4" fill="${role === 'unknown' ? `url(#${idPrefix}-fade)` : color.fill}" ${stroke}/>
<g clip-path="url(#${idPrefix}-c${i})" fill="${text}"${weight}><text x="${x1 + 6}" y="${y + 17}" class="op">${escape(operationLabel(r.op))}</text>
<text x="${x1 + 6}" y="${y + 31}" class="op">${escape(outcomeLabel(r))}</text></g>${
        finish === undefined
          ? `<path d="M ${x2 - 2} ${y + BAR / 2 - 6} l 8 6 l -8 6" fill="none" stroke="#777" stroke-width="1.5"/>`
          : ''
      }${
        n === undefined
          ? ''
          : `<rect x="${x1 - 8}" y="${y - 12}" width="${10 + String(n).length * 7}" height="16" rx="8" fill="#3f7f3f"/><text x="${x1 - 3 + String(n).length * 3.5}" y="${y}" class="num">${n}</text>`
      }</g>`;
    })
    .join('\n');

  const every = Math.max(1, Math.ceil(90 / slot));
  const axisY = bottom + 8;
  const ticks = times
    .map((t, i) => {
      const tx = x(t);
      const label =
        i % every === 0
          ? `<text x="${tx}" y="${axisY + 24}" class="tick">${escape(time.at(t))}</text>`
          : '';
      return `<line x1="${tx}" y1="${axisY}" x2="${tx}" y2="${axisY + 6}" stroke="#888"/>${label}`;
    })
    .join('');

  return `<div class="diagram"><svg xmlns="http://www.w3.org/2000/svg" width="${NAMES}" height="${height}" class="names">
<style>.lane { font: 600 13px system-ui, sans-serif; fill: #333; }</style>${names}</svg>
<div class="scroll"><svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">
<defs><linearGradient id="${idPrefix}-fade"><stop offset="0" stop-color="#e6e6e6"/><stop offset="1" stop-color="#e6e6e6" stop-opacity="0"/></linearGradient>
<style>.op { font: 11.5px ui-monospace, 'DejaVu Sans Mono', monospace; }
.num { font: bold 11px system-ui, sans-serif; fill: #fff; text-anchor: middle; } .tick { font: 11px system-ui, sans-serif; fill: #555; text-anchor: middle; }</style></defs>
${lanes}
<line x1="${LEFT}" y1="${axisY}" x2="${width - 10}" y2="${axisY}" stroke="#888"/>${ticks}
${bars}
</svg></div></div>`;
}

function tooltip(r: KvOperationRecord, time: TimeFormat, n: number | undefined): string {
  const when =
    r.completedAt === undefined
      ? `invoked ${time.at(r.invokedAt)}, still pending at the end`
      : `${time.span(r.invokedAt, r.completedAt)}`;
  const outcome =
    r.outcome === 'ok'
      ? outcomeLabel(r)
      : `${r.outcome}${r.error === undefined ? '' : `: ${r.error}`}`;
  return `${processText(r.process)}, operation ${String(r.id)}${n === undefined ? '' : ` (#${n} in the order found)`}\n${operationLabel(r.op)} ${outcome}\n${when}`;
}

function escape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}
