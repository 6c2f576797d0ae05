// The report as one self-contained HTML page (no script, no external asset): what happened in
// sentences first, then charts over time with each fault's window shaded, the leader timeline,
// and the tables behind them. Colours are the Okabe–Ito palette, and nothing is told by colour
// alone: lines are labelled, failures are also drawn as marks, the verdict is a word.
import { describeProbe } from './hypothesis.js';
import type { ChaosReport, OperationReport, StepRecord, WindowName } from './report-types.js';

const BLUE = '#0072B2';
const ORANGE = '#E69F00';
const VERMILLION = '#D55E00';
const SKY = '#56B4E9';
const GREEN = '#009E73';
const PURPLE = '#CC79A7';
const GREY = '#6b6b6b';
const LEADER_COLOURS = [BLUE, ORANGE, GREEN, PURPLE, SKY];

const WIDTH = 860;
const PLOT_LEFT = 60;
const PLOT_RIGHT = 20;

export function renderReportHtml(report: ChaosReport): string {
  const { experiment, run, hypothesis } = report;
  const end = report.windows.after.end;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(experiment.name)}: chaos report</title>
<style>
  body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 920px; padding: 24px; color: #1b1b1b; background: #fff; }
  h1 { font-size: 1.6em; margin: 0 0 4px; }
  h2 { font-size: 1.2em; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
  .lesson { color: ${GREY}; margin: 0 0 12px; }
  .verdict { display: inline-block; padding: 3px 10px; border-radius: 4px; font-weight: 600; border: 2px solid; }
  .verdict.held, .verdict.recovered { border-color: ${BLUE}; color: ${BLUE}; }
  .verdict.violated, .verdict.inconclusive { border-color: ${VERMILLION}; color: ${VERMILLION}; }
  .findings li { margin: 4px 0; }
  table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 0.92em; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; vertical-align: top; }
  th { background: #f6f6f6; }
  td.num { text-align: right; font-variant-numeric: tabular-nums; }
  .ok { color: ${BLUE}; font-weight: 600; }
  .bad { color: ${VERMILLION}; font-weight: 600; }
  svg { display: block; max-width: 100%; height: auto; }
  /* On a phone the charts keep a legible size and scroll sideways. */
  .chart-scroll, section { overflow-x: auto; }
  .chart-scroll svg { min-width: 620px; }
  svg text { font: 11px system-ui, sans-serif; fill: #333; }
  .meta { color: ${GREY}; font-size: 0.88em; }
  pre { white-space: pre-wrap; background: #f6f6f6; padding: 8px; }
</style>
</head>
<body>
<header>
<h1>${esc(experiment.name)}</h1>
${experiment.lesson ? `<p class="lesson">${esc(experiment.lesson)}</p>` : ''}
<p>Hypothesis: <span class="verdict ${hypothesis.verdict}" data-verdict="${hypothesis.verdict}">${hypothesis.verdict}</span></p>
<p>${esc(experiment.description)}</p>
<p class="meta">Run ${esc(run.id)} · ${esc(run.startedAt)} → ${esc(run.endedAt)} · ${esc(run.mesh)}${run.timeScale === 1 ? '' : ` · time scale ${run.timeScale}`}${run.interrupted ? ' · <strong>interrupted</strong>' : ''}</p>
</header>
<section>
<h2>What happened</h2>
<ul class="findings">${report.findings.map((line) => `<li>${esc(line)}</li>`).join('')}</ul>
</section>
<section>
<h2>Faults</h2>
${stepsTable(report.steps)}
</section>
${report.operations.map((op) => operationSection(op, report, end)).join('\n')}
${report.raft ? raftSection(report, end) : ''}
${linearizabilitySection(report)}
${shopSection(report)}
${hypothesisSection(report)}
</body>
</html>
`;
}

function stepsTable(steps: readonly StepRecord[]): string {
  const rows = steps
    .map(
      (step) => `<tr><td>${esc(step.name)}</td><td>${esc(step.description)}</td>
<td class="num">${seconds(step.appliedAt)}</td><td class="num">${seconds(step.revertedAt)}</td>
<td class="num">${step.injections ?? '—'}</td><td>${step.error ? `<span class="bad">${esc(step.error)}</span>` : 'applied'}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>step</th><th>fault</th><th>applied</th><th>reverted</th><th>injections</th><th>outcome</th></tr></thead><tbody>${rows}</tbody></table>`;
}

function operationSection(op: OperationReport, report: ChaosReport, end: number): string {
  const windows: WindowName[] = ['before', 'during', 'after'];
  const cell = (value: number | null, unit: 'ms' | '%'): string =>
    value === null
      ? '—'
      : unit === '%'
        ? `${(value * 100).toFixed(1)}%`
        : `${Math.round(value)} ms`;
  const rows = windows
    .map((w) => {
      const s = op.windows[w];
      return `<tr><td>${w}</td><td class="num">${s.total}</td><td class="num">${cell(s.successRatio, '%')}</td><td class="num">${cell(s.p50Ms, 'ms')}</td><td class="num">${cell(s.p99Ms, 'ms')}</td></tr>`;
    })
    .join('');
  const times = [
    ['first failure after the fault', op.timeToFirstFailureMs],
    ['next success after that failure', op.timeToFirstSuccessMs],
    ['steady state again after the fault', op.timeToRecoveryMs],
  ] as const;
  const errors = op.errors.length
    ? `<p>Most frequent failures:</p><ul>${op.errors.map((e) => `<li>${e.count} × <code>${esc(e.error)}</code></li>`).join('')}</ul>`
    : '';
  return `<section data-operation="${esc(op.name)}">
<h2>${esc(op.label)}</h2>
${latencyChart(op, report.steps, end)}
${outcomeChart(op, report.steps, end)}
<table><thead><tr><th>window</th><th>operations</th><th>success</th><th>p50</th><th>p99</th></tr></thead><tbody>${rows}</tbody></table>
<p>${times.map(([label, value]) => `${label}: <strong>${value === null ? 'never' : `${Math.round(value)} ms`}</strong>`).join(' · ')}</p>
${errors}
</section>`;
}

/** x position of a time (ms since run start). */
function xOf(at: number, end: number): number {
  return PLOT_LEFT + (at / Math.max(end, 1)) * (WIDTH - PLOT_LEFT - PLOT_RIGHT);
}

/** The fault windows as shaded bands with the step's name, and the time axis. */
function frame(steps: readonly StepRecord[], end: number, top: number, height: number): string {
  const bands = steps
    .filter((step) => step.appliedAt !== null)
    .map((step, i) => {
      const x1 = xOf(step.appliedAt!, end);
      const x2 = xOf(step.revertedAt ?? step.plannedEnd, end);
      return `<rect class="fault-window" x="${x1.toFixed(1)}" y="${top}" width="${Math.max(1, x2 - x1).toFixed(1)}" height="${height}" fill="${ORANGE}" fill-opacity="0.16" stroke="${ORANGE}" stroke-dasharray="4 3"/>
<text x="${(x1 + 4).toFixed(1)}" y="${top + 12 + 12 * (i % 3)}">${esc(step.name)}</text>`;
    })
    .join('');
  const ticks: string[] = [];
  const stepS = end > 120_000 ? 30 : end > 40_000 ? 10 : end > 15_000 ? 5 : 1;
  for (let s = 0; s * 1000 <= end; s += stepS) {
    const x = xOf(s * 1000, end);
    ticks.push(
      `<line x1="${x.toFixed(1)}" y1="${top + height}" x2="${x.toFixed(1)}" y2="${top + height + 4}" stroke="#999"/><text x="${x.toFixed(1)}" y="${top + height + 16}" text-anchor="middle">${s}s</text>`,
    );
  }
  return `${bands}<line x1="${PLOT_LEFT}" y1="${top + height}" x2="${WIDTH - PLOT_RIGHT}" y2="${top + height}" stroke="#999"/>${ticks.join('')}`;
}

function latencyChart(op: OperationReport, steps: readonly StepRecord[], end: number): string {
  const top = 24;
  const height = 170;
  const values = op.series
    .flatMap((p) => [p.p50Ms, p.p99Ms])
    .filter((v): v is number => v !== null);
  const max = niceMax(Math.max(1, ...values));
  const yOf = (v: number): number => top + height - (v / max) * height;
  const line = (key: 'p50Ms' | 'p99Ms', colour: string, dash: string): string => {
    const points = op.series
      .filter((p) => p[key] !== null)
      .map((p) => `${xOf(p.at + 500, end).toFixed(1)},${yOf(p[key]!).toFixed(1)}`);
    if (points.length === 0) return '';
    const marks = points.map((pt) => {
      const [x, y] = pt.split(',');
      return `<circle cx="${x}" cy="${y}" r="2.2" fill="${colour}"/>`;
    });
    return `<polyline class="series-${key}" points="${points.join(' ')}" fill="none" stroke="${colour}" stroke-width="2" stroke-dasharray="${dash}"/>${marks.join('')}`;
  };
  const grid = [0, 0.5, 1]
    .map(
      (f) =>
        `<line x1="${PLOT_LEFT}" y1="${yOf(max * f).toFixed(1)}" x2="${WIDTH - PLOT_RIGHT}" y2="${yOf(max * f).toFixed(1)}" stroke="#eee"/><text x="${PLOT_LEFT - 6}" y="${(yOf(max * f) + 4).toFixed(1)}" text-anchor="end">${Math.round(max * f)} ms</text>`,
    )
    .join('');
  return `<div class="chart-scroll"><svg class="chart latency" viewBox="0 0 ${WIDTH} ${top + height + 24}" role="img" aria-label="${esc(op.label)} latency over time">
<text x="${PLOT_LEFT}" y="14" font-weight="600">latency of successful calls, per second</text>
<text x="${WIDTH - 230}" y="14" fill="${BLUE}">━ p50</text><text x="${WIDTH - 170}" y="14" fill="${VERMILLION}">╍ p99</text><text x="${WIDTH - 110}" y="14" fill="${ORANGE}">▒ fault</text>
${grid}${frame(steps, end, top, height)}${line('p50Ms', BLUE, '')}${line('p99Ms', VERMILLION, '6 3')}
</svg></div>`;
}

function outcomeChart(op: OperationReport, steps: readonly StepRecord[], end: number): string {
  const top = 24;
  const height = 110;
  const max = niceMax(Math.max(1, ...op.series.map((p) => p.ok + p.failed)));
  const barWidth = Math.max(2, xOf(1000, end) - xOf(0, end) - 2);
  const bars = op.series
    .map((p) => {
      const x = xOf(p.at, end) + 1;
      const okH = (p.ok / max) * height;
      const failH = (p.failed / max) * height;
      const base = top + height;
      const fail =
        failH > 0
          ? `<rect class="failed" x="${x.toFixed(1)}" y="${(base - okH - failH).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${failH.toFixed(1)}" fill="${VERMILLION}"/><text x="${(x + barWidth / 2).toFixed(1)}" y="${(base - okH - failH - 2).toFixed(1)}" text-anchor="middle" fill="${VERMILLION}">✕</text>`
          : '';
      return `<rect class="succeeded" x="${x.toFixed(1)}" y="${(base - okH).toFixed(1)}" width="${barWidth.toFixed(1)}" height="${okH.toFixed(1)}" fill="${SKY}"/>${fail}`;
    })
    .join('');
  return `<div class="chart-scroll"><svg class="chart outcomes" viewBox="0 0 ${WIDTH} ${top + height + 24}" role="img" aria-label="${esc(op.label)} successes and failures over time">
<text x="${PLOT_LEFT}" y="14" font-weight="600">operations per second</text>
<text x="${WIDTH - 230}" y="14" fill="${BLUE}">■ succeeded</text><text x="${WIDTH - 140}" y="14" fill="${VERMILLION}">✕ failed</text>
<text x="${PLOT_LEFT - 6}" y="${top + 8}" text-anchor="end">${max}/s</text>
${bars}${frame(steps, end, top, height)}
</svg></div>`;
}

function raftSection(report: ChaosReport, end: number): string {
  const raft = report.raft!;
  const leaders = [
    ...new Set(raft.leaderTimeline.map((s) => s.leader).filter((l): l is string => l !== null)),
  ].sort();
  const colour = (leader: string | null): string =>
    leader === null ? '#ffffff' : LEADER_COLOURS[leaders.indexOf(leader) % LEADER_COLOURS.length]!;
  const top = 24;
  const height = 34;
  const spans = raft.leaderTimeline
    .map((span) => {
      const x1 = xOf(span.start, end);
      const w = Math.max(1.5, xOf(span.end, end) - x1);
      const label = span.leader === null ? 'no leader' : `${span.leader} (term ${span.term})`;
      return `<rect class="leader-span" data-leader="${esc(span.leader ?? '')}" x="${x1.toFixed(1)}" y="${top}" width="${w.toFixed(1)}" height="${height}" fill="${colour(span.leader)}" ${span.leader === null ? `stroke="${VERMILLION}" stroke-dasharray="3 2"` : ''}><title>${esc(label)}</title></rect>${w > 90 ? `<text x="${(x1 + 4).toFixed(1)}" y="${top + 21}" fill="${span.leader === null ? VERMILLION : '#fff'}">${esc(label)}</text>` : ''}`;
    })
    .join('');
  const marks = raft.elections
    .map(
      (e) =>
        `<line x1="${xOf(e.electedAt, end).toFixed(1)}" y1="${top - 6}" x2="${xOf(e.electedAt, end).toFixed(1)}" y2="${top + height + 6}" stroke="#111" stroke-width="2"/><text x="${(xOf(e.electedAt, end) + 3).toFixed(1)}" y="${top - 8}">▼ ${esc(e.to)}</text>`,
    )
    .join('');
  const legend = leaders
    .map(
      (l, i) =>
        `<tspan fill="${colour(l)}">■ ${esc(l)}</tspan>${i < leaders.length - 1 ? '  ' : ''}`,
    )
    .join('');
  const electionRows = raft.elections
    .map(
      (e) =>
        `<tr><td class="num">${seconds(e.lostAt)}</td><td>${esc(e.from ?? '—')}</td><td>${esc(e.to)}</td><td class="num">${e.term}</td><td class="num">${e.gapMs} ms</td></tr>`,
    )
    .join('');
  const progressRows = Object.entries(raft.commitProgress)
    .map(
      ([name, p]) =>
        `<tr><td>${esc(name)}</td><td class="num">${p.before ?? '—'}</td><td class="num">${p.during ?? '—'}</td><td class="num">${p.after ?? '—'}</td></tr>`,
    )
    .join('');
  return `<section data-section="raft">
<h2>The Raft group</h2>
<p>Who led cat-feeder over time. A gap is an election: the followers stopped hearing from a leader, waited out their election timeout, and voted a new one in a higher term.</p>
<div class="chart-scroll"><svg class="chart leader-timeline" viewBox="0 0 ${WIDTH} ${top + height + 28}" role="img" aria-label="leader timeline">
<text x="${PLOT_LEFT}" y="12">${legend}</text>
${frame(report.steps, end, top, height)}${spans}${marks}
</svg></div>
<p>Leader changes: <strong>${raft.leaderChanges}</strong></p>
${raft.elections.length ? `<table><thead><tr><th>lost at</th><th>from</th><th>to</th><th>term</th><th>without a leader</th></tr></thead><tbody>${electionRows}</tbody></table>` : ''}
<p>Entries committed, as each replica saw it (a replica in a minority commits nothing):</p>
<table><thead><tr><th>replica</th><th>before</th><th>during</th><th>after</th></tr></thead><tbody>${progressRows}</tbody></table>
</section>`;
}

function linearizabilitySection(report: ChaosReport): string {
  const lin = report.linearizability;
  if (!lin) return '';
  const verdict =
    lin.verdict === 'ok'
      ? '<span class="ok">linearizable</span>'
      : lin.verdict === 'illegal'
        ? '<span class="bad">NOT linearizable</span>'
        : '<span class="bad">unknown (the checker ran out of time)</span>';
  return `<section data-section="linearizability">
<h2>Linearizability</h2>
<p>Registers on cat-feeder were read (${esc(lin.consistency)} reads) and written by clients spread over every replica during the whole run; the checker searched for one order of all operations that respects real time and a register's meaning.</p>
<p>Verdict: <strong data-verdict="${lin.verdict}">${verdict}</strong> (${lin.operations} operations on ${lin.keys} keys; history in <a href="${esc(lin.historyFile)}">${esc(lin.historyFile)}</a>)</p>
${lin.explanation ? `<pre>${esc(lin.explanation)}</pre>` : ''}
${lin.explanationFile ? `<p>The impossible operation, drawn: <a href="${esc(lin.explanationFile)}">${esc(lin.explanationFile)}</a></p>` : ''}
</section>`;
}

function shopSection(report: ChaosReport): string {
  const shop = report.shop;
  if (!shop) return '';
  const rows = shop.invariants
    .map(
      (c) =>
        `<tr><td>${esc(c.name)}</td><td>${c.holds ? '<span class="ok">✓ holds</span>' : '<span class="bad">✕ broken</span>'}</td><td>${esc(c.detail)}</td></tr>`,
    )
    .join('');
  const states = Object.entries(shop.byState)
    .map(([s, n]) => `${esc(s)}: ${n}`)
    .join(' · ');
  return `<section data-section="shop">
<h2>The shop's invariants</h2>
<p>${shop.ordersPlaced} orders of the experiment's customer (${shop.ordersAcknowledged} of them acknowledged to it; ${states}).</p>
<table><thead><tr><th>invariant</th><th>verdict</th><th>detail</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
}

function hypothesisSection(report: ChaosReport): string {
  const { probes } = report.hypothesis;
  if (probes.length === 0) return '';
  const cell = (w: { value: number | null; holds: boolean }): string =>
    `${w.holds ? '<span class="ok">✓</span>' : '<span class="bad">✕</span>'} ${w.value === null ? 'no data' : Math.round(w.value * 1000) / 1000}`;
  const rows = probes
    .map(
      (p) =>
        `<tr><td><code>${esc(describeProbe(p.probe))}</code></td><td>${cell(p.windows.before)}</td><td>${cell(p.windows.during)}</td><td>${cell(p.windows.after)}</td></tr>`,
    )
    .join('');
  return `<section data-section="hypothesis">
<h2>Steady-state hypothesis</h2>
<table><thead><tr><th>probe</th><th>before</th><th>during</th><th>after</th></tr></thead><tbody>${rows}</tbody></table>
</section>`;
}

function niceMax(value: number): number {
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function seconds(at: number | null): string {
  return at === null ? '—' : `${(at / 1000).toFixed(1)} s`;
}

function esc(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
