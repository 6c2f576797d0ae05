// The experiments panel's source: the directory `catmesh chaos run` writes its runs into, one
// directory per run. A run with a report.json has ended (the report is read once and kept: it
// never changes); one with only a progress.json is running while its runner's process lives,
// and was abandoned (killed before it could write its report) once that process is gone.
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertValidReport,
  parseRunProgress,
  PROGRESS_FILE,
  type ChaosReport,
  type RunProgress,
} from '@catmesh/chaos';
import type {
  ExperimentsView,
  PastExperimentView,
  RunningExperimentView,
} from './dashboard-snapshot.js';

/** The files of a run directory the page may open, with their types. */
export const REPORT_FILES: Readonly<Record<string, string>> = {
  'report.html': 'text/html; charset=utf-8',
  'report.json': 'application/json',
  'history.json': 'application/json',
  'linearizability.html': 'text/html; charset=utf-8',
};

/** How many ended runs the panel lists, newest first. */
const PAST_RUNS = 8;
/** How many findings of a report the panel shows (the report has them all). */
const FINDINGS = 2;

/** Whether a process lives (on this machine). */
export type IsAlive = (pid: number) => boolean;

export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it lives, as another user's.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class ExperimentRuns {
  /** Ended runs by directory name: a report, once valid, is final. */
  readonly #ended = new Map<string, PastExperimentView>();

  constructor(
    readonly dir: string,
    private readonly isAlive: IsAlive = processIsAlive,
  ) {}

  /** Reads the directory again; throws (the source is down) when it cannot be listed. */
  async read(): Promise<Omit<ExperimentsView, 'source'>> {
    const entries = await readdir(this.dir, { withFileTypes: true }).catch((error: unknown) => {
      // No run yet: the directory is made by the first one.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    });
    const running: RunningExperimentView[] = [];
    const past: PastExperimentView[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const run = await this.#readRun(entry.name);
      if (run?.kind === 'running') running.push(run.view);
      else if (run) past.push(run.view);
    }
    past.sort((a, b) => b.startedAtMs - a.startedAtMs);
    running.sort((a, b) => b.startedAtMs - a.startedAtMs);
    return { running, past: past.slice(0, PAST_RUNS) };
  }

  /** A run directory's file the page may open, or undefined (no such run or file). */
  async file(run: string, name: string): Promise<{ body: Buffer; type: string } | undefined> {
    const type = REPORT_FILES[name];
    // Only a directory this listing has seen end: no path of the page's choosing is opened.
    if (!type || !this.#ended.has(run)) return undefined;
    const body = await readFile(join(this.dir, run, name)).catch(() => undefined);
    return body && { body, type };
  }

  async #readRun(
    name: string,
  ): Promise<
    | { kind: 'running'; view: RunningExperimentView }
    | { kind: 'ended'; view: PastExperimentView }
    | undefined
  > {
    const ended = this.#ended.get(name);
    if (ended) return { kind: 'ended', view: ended };
    const report = await readJson(join(this.dir, name, 'report.json'));
    if (report.kind === 'parsed') {
      let view: PastExperimentView;
      try {
        assertValidReport(report.value);
        view = reportView(name, report.value);
      } catch (error) {
        // Whole (it parses) but not a report this dashboard reads: say so rather than guess.
        view = {
          kind: 'unreadable',
          run: name,
          startedAtMs: report.mtimeMs,
          reason: problemsOf(error),
        };
      }
      this.#ended.set(name, view);
      return { kind: 'ended', view };
    }
    const text = await readFile(join(this.dir, name, PROGRESS_FILE), 'utf8').catch(() => undefined);
    if (text === undefined) return undefined;
    let progress: RunProgress;
    try {
      progress = parseRunProgress(text);
    } catch {
      return undefined;
    }
    if (this.isAlive(progress.pid)) {
      return { kind: 'running', view: runningView(name, progress) };
    }
    // It could have written its report between the two reads: that wins next time.
    return report.kind === 'missing'
      ? {
          kind: 'ended',
          view: {
            kind: 'abandoned',
            run: name,
            experiment: progress.experiment,
            startedAtMs: progress.startedAt,
            phase: progress.phase,
            pid: progress.pid,
          },
        }
      : undefined;
  }
}

/** A JSON file: missing, not whole yet (being written: it does not parse), or parsed. */
async function readJson(
  file: string,
): Promise<
  | { readonly kind: 'missing' | 'partial' }
  | { readonly kind: 'parsed'; readonly value: unknown; readonly mtimeMs: number }
> {
  const [text, info] = await Promise.all([
    readFile(file, 'utf8').catch(() => undefined),
    stat(file).catch(() => undefined),
  ]);
  if (text === undefined || info === undefined) return { kind: 'missing' };
  try {
    return { kind: 'parsed', value: JSON.parse(text) as unknown, mtimeMs: info.mtimeMs };
  } catch {
    return { kind: 'partial' };
  }
}

/** Every problem the report schema found, on one line, cut short when there are many. */
function problemsOf(error: unknown): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, '; ');
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

function runningView(run: string, progress: RunProgress): RunningExperimentView {
  const at = progress.faultWindowAt;
  return {
    run,
    experiment: progress.experiment,
    startedAtMs: progress.startedAt,
    phase: progress.phase,
    phaseSinceMs: progress.phaseSince,
    ...(at !== undefined && {
      faultWindowAtMs: at,
      endsAtMs: at + progress.faultWindowMs + progress.afterMs,
    }),
    steps: progress.steps.map((step) => ({
      name: step.name,
      description: step.description,
      state: step.state,
      durationMs: step.durationMs,
      targets: step.targets,
      ...(at !== undefined && { startsAtMs: at + step.startMs }),
      ...(step.appliedAt !== undefined && { appliedAtMs: step.appliedAt }),
      ...(step.revertedAt !== undefined && { revertedAtMs: step.revertedAt }),
      ...(step.error !== undefined && { error: step.error }),
    })),
  };
}

function reportView(run: string, report: ChaosReport): PastExperimentView {
  const invariants = report.shop?.invariants;
  return {
    kind: 'report',
    run,
    experiment: report.experiment.name,
    startedAtMs: Date.parse(report.run.startedAt),
    endedAtMs: Date.parse(report.run.endedAt),
    interrupted: report.run.interrupted,
    hypothesis: report.hypothesis.verdict,
    ...(report.linearizability && { linearizability: report.linearizability.verdict }),
    ...(invariants && { invariantsHold: invariants.every((check) => check.holds) }),
    leaderChanges: report.raft?.leaderChanges ?? 0,
    findings: report.findings.slice(0, FINDINGS),
    reportPath: `/reports/${encodeURIComponent(run)}/report.html`,
  };
}
