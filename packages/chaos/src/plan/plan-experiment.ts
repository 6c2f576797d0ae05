// An experiment's timeline in milliseconds: when each step starts and ends, how long the steady
// state is measured before and watched after, with every duration multiplied by the time scale
// (a short form of the same experiment, for tests and quick looks). The size of a fault (a delay,
// a pause) is never scaled: a shorter experiment must still show the same effect.
import { parseDuration } from '../experiment/duration.js';
import type {
  ChaosExperiment,
  Consistency,
  DurationText,
  StepSpec,
} from '../experiment/experiment-types.js';

export interface PlanOptions {
  /** In (0, 1]: every duration of the timeline is multiplied by it. */
  readonly timeScale?: number;
}

export interface TimedStep {
  readonly index: number;
  readonly spec: StepSpec;
  /** From the start of the fault window. */
  readonly startMs: number;
  readonly durationMs: number;
}

export interface WorkloadPlan {
  readonly orders?: {
    readonly ratePerSecond: number;
    readonly sku: string;
    readonly quantity: number;
    readonly deadlineMs: number;
  };
  readonly catState?: {
    readonly ratePerSecond: number;
    readonly consistency: Consistency;
    readonly deadlineMs: number;
  };
  readonly stock?: {
    readonly ratePerSecond: number;
    readonly sku: string;
    readonly deadlineMs: number;
  };
  readonly register?: {
    readonly ratePerSecond: number;
    readonly clients: number;
    readonly consistency: Consistency;
    readonly deadlineMs: number;
  };
}

export interface ExperimentPlan {
  readonly experiment: ChaosExperiment;
  readonly timeScale: number;
  readonly seed: number;
  readonly beforeMs: number;
  /** From the start of the first step to the end of the last. */
  readonly faultWindowMs: number;
  readonly afterMs: number;
  readonly settleMs: number;
  readonly steps: readonly TimedStep[];
  readonly workload: WorkloadPlan;
}

const DEFAULT_SETTLE_MS = 30_000;

/**
 * The SKU the orders workload buys unless told otherwise: one no one else orders, so that the
 * stock's books balance exactly against the experiment's own orders (see ShopLedger).
 */
export const CHAOS_SKU = 'chaos-treats';

/** The timeline of a validated experiment. */
export function planExperiment(
  experiment: ChaosExperiment,
  options: PlanOptions = {},
): ExperimentPlan {
  const timeScale = options.timeScale ?? 1;
  if (!(timeScale > 0 && timeScale <= 1)) {
    throw new RangeError(`the time scale must be in (0, 1], not ${timeScale}`);
  }
  const scaled = (text: DurationText): number => Math.round(ms(text) * timeScale);
  const { spec } = experiment;
  const steps = spec.steps.map((step, index): TimedStep => ({
    index,
    spec: step,
    startMs: step.startAfter === undefined ? 0 : scaled(step.startAfter),
    // A killed process is down until it restarts: the step lasts at least that long, whatever
    // the time scale, so that its end is when the target can be back.
    durationMs: Math.max(
      1,
      scaled(step.duration),
      step.fault.kind === 'kill' && step.fault.restartAfter ? ms(step.fault.restartAfter) : 0,
    ),
  }));
  const { orders, catState, stock, register } = spec.workload;
  const deadline = (text: DurationText | undefined, fallback: number): number =>
    text === undefined ? fallback : ms(text);
  return {
    experiment,
    timeScale,
    seed: spec.seed ?? 1,
    beforeMs: scaled(spec.steadyState.before),
    faultWindowMs: Math.max(...steps.map((step) => step.startMs + step.durationMs)),
    afterMs: scaled(spec.steadyState.after),
    settleMs:
      spec.steadyState.settle === undefined ? DEFAULT_SETTLE_MS : ms(spec.steadyState.settle),
    steps,
    workload: {
      ...(orders && {
        orders: {
          ratePerSecond: orders.ratePerSecond,
          sku: orders.sku ?? CHAOS_SKU,
          quantity: orders.quantity ?? 1,
          deadlineMs: deadline(orders.deadline, 2_000),
        },
      }),
      ...(catState && {
        catState: {
          ratePerSecond: catState.ratePerSecond,
          consistency: catState.consistency ?? 'linearizable',
          deadlineMs: deadline(catState.deadline, 1_000),
        },
      }),
      ...(stock && {
        stock: {
          ratePerSecond: stock.ratePerSecond,
          sku: stock.sku ?? 'kibble',
          deadlineMs: deadline(stock.deadline, 1_000),
        },
      }),
      ...(register && {
        register: {
          ratePerSecond: register.ratePerSecond,
          clients: register.clients ?? 6,
          consistency: register.consistency ?? 'linearizable',
          deadlineMs: deadline(register.deadline, 1_000),
        },
      }),
    },
  };
}

/** A validated duration (the schema's pattern) in milliseconds. */
export function ms(text: DurationText): number {
  const value = parseDuration(text);
  if (value === undefined) throw new Error(`not a duration: ${JSON.stringify(text)}`);
  return value;
}
