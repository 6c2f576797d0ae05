// The report in a terminal: the verdict, the findings, and one line per operation and window.
import type { ChaosReport } from './report-types.js';

export function renderSummary(report: ChaosReport): string {
  const pct = (ratio: number | null): string =>
    ratio === null ? '—' : `${(ratio * 100).toFixed(1)}%`;
  const ms = (value: number | null): string => (value === null ? '—' : `${Math.round(value)}ms`);
  const lines = [
    `${report.experiment.name}: hypothesis ${report.hypothesis.verdict.toUpperCase()}${report.run.interrupted ? ' (interrupted)' : ''}`,
    ...report.findings.map((line) => `  - ${line}`),
  ];
  if (report.operations.length > 0) {
    lines.push(
      '',
      `  ${'operation'.padEnd(26)}${'window'.padEnd(8)}${'ops'.padStart(6)}${'success'.padStart(9)}${'p50'.padStart(8)}${'p99'.padStart(8)}`,
    );
    for (const op of report.operations) {
      for (const window of ['before', 'during', 'after'] as const) {
        const s = op.windows[window];
        lines.push(
          `  ${(window === 'before' ? op.label : '').padEnd(26)}${window.padEnd(8)}${String(s.total).padStart(6)}${pct(s.successRatio).padStart(9)}${ms(s.p50Ms).padStart(8)}${ms(s.p99Ms).padStart(8)}`,
        );
      }
    }
  }
  return lines.join('\n');
}
