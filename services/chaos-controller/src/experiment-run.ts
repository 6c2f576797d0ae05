// One run of one ChaosExperiment resource, start to report: validate, plan, preflight (Failed
// with a condition, and nothing touched, if any of them refuses), then the same run loop as
// `catmesh chaos run`, its events mirrored into the status and into Events, and its report
// stored in a ConfigMap owned by the experiment.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  ExperimentError,
  planExperiment,
  preflight,
  PreflightError,
  runExperiment,
  SelectorError,
  type ExperimentPlan,
  type ExperimentStatus,
  type MeshAccess,
  type Preflight,
  type RunEvent,
} from '@catmesh/chaos';
import type { Logger } from '@catmesh/runtime';
import type { ExperimentApi, EventNote } from './experiment-api.js';
import {
  experimentOf,
  sourceOf,
  timeScaleOf,
  type ExperimentResource,
} from './experiment-resource.js';
import {
  acceptedStatus,
  failedStatus,
  finishedStatus,
  statusAfterEvent,
  type FailureReason,
  type StatusContext,
} from './run-status.js';

export interface RunContext {
  readonly api: ExperimentApi;
  /** The mesh as the experiment's run sees it (pods by the mesh's selector). */
  readonly mesh: MeshAccess;
  readonly logger: Logger;
  /** Aborts the run: its faults are reverted, and it ends Failed (Interrupted). */
  readonly signal: AbortSignal;
}

/** A run id that fits a label value (63 characters), unique per run. */
export function runIdOf(resource: ExperimentResource): string {
  return `${resource.metadata.name.slice(0, 50).replace(/[-.]+$/, '')}-${Date.now().toString(36)}`;
}

export async function runExperimentResource(
  resource: ExperimentResource,
  context: RunContext,
): Promise<void> {
  const { api, logger, mesh, signal } = context;
  const name = resource.metadata.name;
  const generation = resource.metadata.generation ?? 1;
  const at = (): StatusContext => ({ generation, now: new Date() });
  let status: ExperimentStatus = resource.status ?? {};
  // Status writes in order, one at a time: each carries the whole status as the run sees it.
  let writes = Promise.resolve();
  const write = (next: ExperimentStatus): Promise<void> => {
    status = next;
    writes = writes
      .then(() => api.writeStatus(name, next))
      .catch((error: unknown) =>
        logger.warn({ err: error, experiment: name }, 'status write failed'),
      );
    return writes;
  };
  const note = (event: EventNote): void => {
    api
      .recordEvent(resource, event)
      .catch((error: unknown) => logger.warn({ err: error, experiment: name }, 'event failed'));
  };
  const fail = async (reason: FailureReason, message: string): Promise<void> => {
    logger.info({ experiment: name, reason }, message);
    note({ type: 'Warning', reason, message });
    await write(failedStatus(status, reason, message, at()));
  };

  let plan: ExperimentPlan;
  let checked: Preflight;
  let runId: string;
  try {
    plan = planExperiment(experimentOf(resource), { timeScale: timeScaleOf(resource) });
    checked = await preflight(plan, mesh);
    runId = runIdOf(resource);
    await write(acceptedStatus(plan, checked, runId, at()));
  } catch (error) {
    if (error instanceof ExperimentError) return fail('Invalid', error.message);
    if (error instanceof PreflightError || error instanceof SelectorError) {
      return fail('PreflightFailed', error.message);
    }
    throw error;
  }
  note({
    type: 'Normal',
    reason: 'Started',
    message: `run ${runId}: ${plan.steps.length} step(s) on ${mesh.description}`,
  });

  const reportDir = await mkdtemp(join(tmpdir(), 'catmesh-chaos-'));
  try {
    const { report, files } = await runExperiment({
      plan,
      source: sourceOf(resource),
      mesh,
      reportDir,
      signal,
      runId,
      preflight: checked,
      onEvent: (event) => {
        void write(statusAfterEvent(status, event, checked.instances, at()));
        const recorded = eventNoteOf(event);
        if (recorded) note(recorded);
      },
    });
    if (signal.aborted) {
      return await fail('Interrupted', 'the run was stopped; every fault it applied is reverted');
    }
    // report.json first: when the HTML does not fit beside it, the JSON is what is kept.
    const texts: Record<string, string> = {};
    for (const path of [files.json, files.html, files.explanation]) {
      if (path !== undefined) texts[basename(path)] = await readFile(path, 'utf8');
    }
    const stored = await api.storeReport(resource, texts);
    if (stored.omitted.length > 0) {
      note({
        type: 'Warning',
        reason: 'ReportTruncated',
        message: `${stored.omitted.join(', ')} left out of ConfigMap ${stored.name}: over 1 MB`,
      });
    }
    await writes;
    await write(finishedStatus(status, report, stored.name, at()));
    note({
      type: report.hypothesis.verdict === 'violated' ? 'Warning' : 'Normal',
      reason: 'Finished',
      message: `hypothesis ${report.hypothesis.verdict}; report in ConfigMap ${stored.name}`,
    });
  } catch (error) {
    await writes;
    await fail(
      signal.aborted ? 'Interrupted' : 'RunFailed',
      `the run failed: ${error instanceof Error ? error.message : String(error)}; every fault it applied is reverted`,
    );
  } finally {
    await rm(reportDir, { recursive: true, force: true });
  }
}

function eventNoteOf(event: RunEvent): EventNote | undefined {
  switch (event.type) {
    case 'applied':
      return {
        type: 'Normal',
        reason: 'Injected',
        message: `${event.step}: ${event.description} (until ${new Date(event.expiresAt).toISOString()} at the latest)`,
      };
    case 'reverted':
      return { type: 'Normal', reason: 'Recovered', message: `${event.step}: reverted` };
    case 'step-failed':
      return { type: 'Warning', reason: 'InjectFailed', message: `${event.step}: ${event.error}` };
    case 'phase':
      return undefined;
  }
}
