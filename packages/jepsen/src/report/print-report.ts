import type { Availability } from '../verdict/operation-stats.js';
import type { CheckReport } from './check-report.js';

// The human-readable end of a run: what was done, what broke, what the checks say, where to look.

const percent = (a: Availability): string =>
  a.ratio === undefined
    ? 'no operations'
    : `${a.ok}/${a.attempted} ok (${(a.ratio * 100).toFixed(1)}%)`;

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

export function formatReport(report: CheckReport): string {
  const { options, stats } = report;
  const lines: string[] = [];
  lines.push(
    `faults (${report.faults.length}):` + (report.faults.length === 0 ? ' none' : ''),
    ...report.faults.map(
      (f) =>
        `  ${seconds(f.startMs).padStart(6)} – ${f.endMs === undefined ? '   end' : seconds(f.endMs).padStart(6)}  ${f.description}`,
    ),
    ...report.faultErrors.map((e) => `  not applied: ${e}`),
  );
  lines.push(`operations: ${stats.total}`);
  for (const [f, c] of Object.entries(stats.counts)) {
    lines.push(`  ${f.padEnd(4)} ${c.ok} ok, ${c.fail} fail, ${c.info} info (unknown outcome)`);
  }
  lines.push(
    `availability: during faults ${percent(stats.duringFaults)}; outside faults ${percent(stats.outsideFaults)}`,
  );
  lines.push('checks:');
  for (const check of report.checks) {
    lines.push(`  ${check.name.padEnd(13)} ${check.verdict.padEnd(8)} ${check.detail}`);
    if (check.failure) lines.push(indent(check.failure.explanation, '      '));
  }
  const linearizable = report.checks.find((c) => c.name === 'linearizable');
  if (options.readConsistency !== 'linearizable' && linearizable?.verdict === 'illegal') {
    lines.push(
      `  (${options.readConsistency} reads answer from a replica without asking a quorum: under a ` +
        'partition they stay available and return old values. That is the C given up in CAP.)',
    );
  }
  lines.push(`verdict: ${report.passed ? 'PASS' : 'FAIL'}`);
  lines.push(`history: ${report.files.html}`);
  lines.push(`files:   ${report.files.dir} (history.json, summary.json, logs/)`);
  return lines.join('\n') + '\n';
}

function indent(text: string, prefix: string): string {
  // Wrap the explanation paragraph at about 100 columns.
  const words = text.split(/\s+/);
  const out: string[] = [];
  let line = prefix;
  for (const word of words) {
    if (line.length + word.length > 100 && line.trim() !== '') {
      out.push(line.trimEnd());
      line = prefix;
    }
    line += word + ' ';
  }
  out.push(line.trimEnd());
  return out.join('\n');
}
