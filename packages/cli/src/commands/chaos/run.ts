import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ExperimentError,
  describePlan,
  planExperiment,
  preflight,
  PreflightError,
  readExperimentFile,
  renderSummary,
  runExperiment,
  RunProgressJournal,
  type RunEvent,
} from '@catmesh/chaos';
import { UsageError } from '../../cli-errors.js';
import { writeJsonLine, type OutputStream } from '../../cli-io.js';
import { defineCommand } from '../../command.js';
import { ExitCode } from '../../exit-codes.js';
import { localMeshAccess, NoLocalMeshError } from '../../local-mesh/local-mesh-access.js';
import { DEFAULT_STATE_DIR, STATE_DIR_OPTION, StateDir } from '../../local-mesh/state-dir.js';
import { RUN_OPTIONS } from './chaos-options.js';

export const runCommand = defineCommand({
  name: 'run',
  summary: 'run an experiment against the catmesh up mesh and write its report',
  usage: 'FILE [--dry-run] [--time-scale F] [--report-dir DIR] [--state-dir DIR] [--json]',
  description: `Runs the ChaosExperiment in FILE (YAML or JSON, the same file kubectl applies) against
the mesh \`catmesh up\` runs from the state directory. The file is checked against the
experiment schema and every selector is resolved against the live mesh before anything is
touched: a problem exits 2, naming the field, with nothing applied.

The experiment sends its own workload from start to end, measures the steady state, applies
each step's faults on schedule (every fault carries its own expiry, enforced by the process
that holds it), watches the recovery, then checks the shop's invariants and the linearizability
of its cat-feeder registers, and writes report.json and report.html. Ctrl-C reverts what was
applied and still writes the report (exit 130). With --json the report is printed as one line.`,
  options: { ...RUN_OPTIONS, ...STATE_DIR_OPTION },
  positionals: [{ name: 'FILE' }],
  async run({ io, globals, options, positionals }) {
    const file = positionals[0]!;
    const timeScale = parseTimeScale(options.string('time-scale'));
    const state = new StateDir(options.string('state-dir') ?? DEFAULT_STATE_DIR);
    try {
      const experiment = await readExperimentFile(file);
      const plan = planExperiment(experiment, { timeScale });
      const mesh = await localMeshAccess(state);
      if (options.flag('dry-run')) {
        io.stdout.write(
          `${describePlan(plan, await preflight(plan, mesh))}\n\n(dry run: nothing was applied)\n`,
        );
        return ExitCode.ok;
      }
      const reportDir =
        options.string('report-dir') ??
        join(
          state.reportsDir,
          `${experiment.metadata.name}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
        );
      const progress = globals.json ? undefined : io.stderr;
      // progress.json beside the report, for the dashboard's experiments panel.
      await mkdir(reportDir, { recursive: true });
      const journal = new RunProgressJournal(reportDir, plan);
      await journal.flush();
      const { report, files } = await runExperiment({
        plan,
        source: file,
        mesh,
        reportDir,
        ...(io.signal && { signal: io.signal }),
        onEvent: (event: RunEvent) => {
          journal.record(event);
          if (progress) printEvent(progress, event);
        },
      }).finally(() => journal.flush());
      if (globals.json) {
        writeJsonLine(io.stdout, report);
      } else {
        io.stdout.write(
          `${renderSummary(report)}\n\nreport: ${files.html}\n        ${files.json}\n`,
        );
        if (files.explanation) io.stdout.write(`        ${files.explanation}\n`);
      }
      return report.run.interrupted ? ExitCode.interrupted : ExitCode.ok;
    } catch (error) {
      if (error instanceof ExperimentError) {
        io.stderr.write(
          `${error.message}\ncatmesh: the experiment is invalid; nothing was applied\n`,
        );
        return ExitCode.usage;
      }
      if (error instanceof PreflightError) {
        io.stderr.write(
          `${error.message}\ncatmesh: the experiment cannot run on this mesh; nothing was applied\n`,
        );
        return ExitCode.usage;
      }
      if (error instanceof NoLocalMeshError) {
        io.stderr.write(`catmesh: ${error.message}\n`);
        return ExitCode.unavailable;
      }
      throw error;
    }
  },
});

function parseTimeScale(text: string | undefined): number {
  if (text === undefined) return 1;
  const value = Number(text);
  if (!(value > 0 && value <= 1)) {
    throw new UsageError(`--time-scale: must be a number in (0, 1], not '${text}'`);
  }
  return value;
}

function printEvent(out: OutputStream, event: RunEvent): void {
  const at = `[${(event.at / 1000).toFixed(1).padStart(6)}s]`;
  switch (event.type) {
    case 'phase': {
      const text = {
        before: 'measuring the steady state',
        during: 'fault window',
        after: 'watching the recovery',
        settle: 'waiting for the orders to end',
        check: 'checking and writing the report',
      }[event.phase];
      out.write(`${at} ${text}\n`);
      return;
    }
    case 'applied':
      out.write(`${at}   ${event.step}: ${event.description}\n`);
      return;
    case 'reverted':
      out.write(`${at}   ${event.step}: reverted\n`);
      return;
    case 'step-failed':
      out.write(`${at}   ${event.step}: FAILED: ${event.error}\n`);
      return;
  }
}
