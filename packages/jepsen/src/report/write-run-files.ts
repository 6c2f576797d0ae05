import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  historyOperations,
  renderHistoryHtml,
  serializeHistory,
  type CheckResult,
  type History,
} from '@catmesh/linearizability';
import type { CheckReport } from './check-report.js';

/** Writes history.json, history.html and logs/<member>.log; summary.json is the caller's. */
export async function writeRunFiles(
  dir: string,
  run: {
    readonly history: History;
    readonly drawn: { readonly history: History; readonly result: CheckResult };
    readonly title: string;
    readonly logs: ReadonlyMap<string, string>;
  },
): Promise<CheckReport['files']> {
  const files = {
    dir,
    history: join(dir, 'history.json'),
    html: join(dir, 'history.html'),
    summary: join(dir, 'summary.json'),
  };
  await mkdir(join(dir, 'logs'), { recursive: true });
  await writeFile(files.history, serializeHistory(run.history));
  const { history, result } = run.drawn;
  const key = keyToDraw(history, result);
  await writeFile(
    files.html,
    renderHistoryHtml(history, { result, title: run.title, ...(key === undefined ? {} : { key }) }),
  );
  for (const [member, output] of run.logs) {
    await writeFile(join(dir, 'logs', `${member}.log`), output);
  }
  return files;
}

/**
 * The renderer draws the failing key by itself. Otherwise one key is enough (a long run has dozens,
 * and drawing them all makes a page of tens of megabytes): the first the checker could not
 * decide, or else the one with the most operations of unknown outcome, where the checker had the
 * most to weigh.
 */
function keyToDraw(history: History, result: CheckResult): string | undefined {
  if (result.failure !== undefined) return undefined;
  const undecided = result.keys.find((k) => k.verdict === 'unknown');
  if (undecided !== undefined) return undecided.key;
  const unknownOutcomes = new Map<string, number>();
  for (const record of historyOperations(history)) {
    const n = unknownOutcomes.get(record.op.key) ?? 0;
    unknownOutcomes.set(record.op.key, n + (record.outcome === 'info' ? 1 : 0));
  }
  return [...unknownOutcomes].sort((a, b) => b[1] - a[1])[0]?.[0];
}
