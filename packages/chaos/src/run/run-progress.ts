// progress.json: what a run of `catmesh chaos run` is doing now, in its report directory beside
// the report it will write. The run's events are folded into one small document, rewritten
// whole (a temporary file renamed over the old one, so a reader never sees half of it) at each
// event, so that the dashboard can draw the running experiment's steps. A directory with
// progress.json and no report.json is a run still going, or one whose runner died (its pid says
// which).
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { describeStep } from '../plan/describe-plan.js';
import type { ExperimentPlan } from '../plan/plan-experiment.js';
import type { RunEvent } from './run-experiment.js';

export const PROGRESS_FILE = 'progress.json';
export const PROGRESS_KIND = 'ChaosRunProgress';

export const RUN_PHASES = ['starting', 'before', 'during', 'after', 'settle', 'check'] as const;
export type RunPhase = (typeof RUN_PHASES)[number];

export const STEP_STATES = ['pending', 'applied', 'reverted', 'failed'] as const;
export type StepState = (typeof STEP_STATES)[number];

export interface StepProgress {
  readonly name: string;
  /** The step in words (`latency 300ms on orders → inventory`), resolved once applied. */
  readonly description: string;
  /** From the start of the fault window, as planned (time scale applied). */
  readonly startMs: number;
  readonly durationMs: number;
  readonly state: StepState;
  /** Epoch milliseconds; set once it happened. */
  readonly appliedAt?: number;
  readonly revertedAt?: number;
  /** The instances that hold the fault. */
  readonly targets: readonly string[];
  readonly error?: string;
}

export interface RunProgress {
  readonly kind: typeof PROGRESS_KIND;
  readonly experiment: string;
  /** The runner's process: alive while the run is, on the machine that wrote this file. */
  readonly pid: number;
  /** Epoch milliseconds. */
  readonly startedAt: number;
  readonly phase: RunPhase;
  readonly phaseSince: number;
  /** When the fault window opened (epoch milliseconds); steps start relative to it. */
  readonly faultWindowAt?: number;
  /** The planned lengths of the windows, time scale applied. */
  readonly beforeMs: number;
  readonly faultWindowMs: number;
  readonly afterMs: number;
  readonly steps: readonly StepProgress[];
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Folds a run's events into progress.json in `dir`. Writes are queued one after another (the
 * last one written is the newest state); a write that fails is dropped, since the file is a
 * view for onlookers and must never stop the run.
 */
export class RunProgressJournal {
  private readonly progress: Mutable<RunProgress>;
  private readonly steps: Mutable<StepProgress>[];
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    plan: ExperimentPlan,
    private readonly now: () => number = Date.now,
  ) {
    this.steps = plan.steps.map((step) => ({
      name: step.spec.name,
      description: describeStep(step.spec),
      startMs: step.startMs,
      durationMs: step.durationMs,
      state: 'pending',
      targets: [],
    }));
    const startedAt = now();
    this.progress = {
      kind: PROGRESS_KIND,
      experiment: plan.experiment.metadata.name,
      pid: process.pid,
      startedAt,
      phase: 'starting',
      phaseSince: startedAt,
      beforeMs: plan.beforeMs,
      faultWindowMs: plan.faultWindowMs,
      afterMs: plan.afterMs,
      steps: this.steps,
    };
  }

  /** The state as of the events so far. */
  current(): RunProgress {
    return structuredClone(this.progress);
  }

  /** Takes one event (the run's `onEvent`) and queues a write of the new state. */
  record(event: RunEvent): void {
    const at = this.now();
    if (event.type === 'phase') {
      this.progress.phase = event.phase;
      this.progress.phaseSince = at;
      if (event.phase === 'during') this.progress.faultWindowAt = at;
    } else {
      const step = this.steps.find((s) => s.name === event.step);
      if (step) {
        if (event.type === 'applied') {
          step.state = 'applied';
          step.appliedAt = at;
          step.description = event.description;
          step.targets = [...event.targets];
        } else if (event.type === 'reverted') {
          step.state = 'reverted';
          step.revertedAt = at;
        } else {
          step.state = 'failed';
          step.error = event.error;
        }
      }
    }
    this.write();
  }

  /** Writes the state now (the first one, before any event) and waits for every queued write. */
  flush(): Promise<void> {
    this.write();
    return this.writing;
  }

  private write(): void {
    const text = `${JSON.stringify(this.progress)}\n`;
    const file = join(this.dir, PROGRESS_FILE);
    this.writing = this.writing
      .then(async () => {
        await writeFile(`${file}.tmp`, text);
        await rename(`${file}.tmp`, file);
      })
      .catch(() => undefined);
  }
}

const epochMs = { type: 'number', minimum: 0 } as const;
const progressSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'kind',
    'experiment',
    'pid',
    'startedAt',
    'phase',
    'phaseSince',
    'beforeMs',
    'faultWindowMs',
    'afterMs',
    'steps',
  ],
  properties: {
    kind: { const: PROGRESS_KIND },
    experiment: { type: 'string', minLength: 1 },
    pid: { type: 'integer', minimum: 1 },
    startedAt: epochMs,
    phase: { enum: RUN_PHASES },
    phaseSince: epochMs,
    faultWindowAt: epochMs,
    beforeMs: epochMs,
    faultWindowMs: epochMs,
    afterMs: epochMs,
    steps: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'description', 'startMs', 'durationMs', 'state', 'targets'],
        properties: {
          name: { type: 'string' },
          description: { type: 'string' },
          startMs: epochMs,
          durationMs: epochMs,
          state: { enum: STEP_STATES },
          appliedAt: epochMs,
          revertedAt: epochMs,
          targets: { type: 'array', items: { type: 'string' } },
          error: { type: 'string' },
        },
      },
    },
  },
} as const;

const validate = new Ajv({ allErrors: true, strict: true }).compile<RunProgress>(progressSchema);

/** progress.json's text as a RunProgress; throws naming what is wrong with it. */
export function parseRunProgress(text: string): RunProgress {
  const value: unknown = JSON.parse(text);
  if (validate(value)) return value;
  const problems = (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`,
  );
  throw new Error(`not a run's progress: ${problems.join('; ')}`);
}
