import { readFile } from 'node:fs/promises';
import { parseHistory, type History } from '@catmesh/linearizability';
import type { CheckReport } from '../../src/index.js';

/** What a run wrote, read back: a check is only as good as the files it leaves to look at. */
export async function readRunFiles(report: CheckReport): Promise<{
  history: History;
  html: string;
  summary: CheckReport;
}> {
  const [history, html, summary] = await Promise.all([
    readFile(report.files.history, 'utf8'),
    readFile(report.files.html, 'utf8'),
    readFile(report.files.summary, 'utf8'),
  ]);
  return {
    history: parseHistory(history),
    html,
    summary: JSON.parse(summary) as CheckReport,
  };
}
