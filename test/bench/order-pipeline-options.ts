// The order-pipeline benchmark's command line, parsed and checked once; a bad flag stops it with
// one line (UsageError, as the other benchmarks').
import { choicesFlag, durationFlag, numberFlag, parseFlags, UsageError } from './bench-flags.js';
import type { StepOptions } from './pipeline-step.js';
import type { RateSearchOptions } from './rate-search.js';

export type Tracing = 'off' | 'on';
const TRACING: readonly Tracing[] = ['off', 'on'];

export interface PipelineOptions {
  readonly runs: number;
  readonly tracing: readonly Tracing[];
  readonly search: RateSearchOptions;
  readonly step: StepOptions;
  readonly portBase: number;
  readonly out: string | undefined;
  readonly json: string | undefined;
}

export const USAGE = `usage: node --conditions=@catmesh/source --import tsx test/bench/order-pipeline.ts [options]
  --runs 3             searches per tracing mode (the modes alternate, each on a fresh mesh)
  --tracing off,on     the modes measured: off (OTEL_SDK_DISABLED=true), on (spans to the dashboard)
  --start 10           orders/s of the first step
  --factor 1.5         each step of the ramp offers this many times the last one
  --refine 2           bisection steps between the last rate that passed and the first that failed
  --max-rate 500       the ramp stops here
  --warmup 1s          load before each step's measured window
  --duration 6s        measured window of each step
  --deadline 5s        PlaceOrder deadline (loadgen's)
  --p99 500ms          a step passes with its PlaceOrder p99 below this,
  --min-ok 99          at least this % of its orders answered RESERVED,
  --min-fulfilled 95   and fulfilment keeping pace: units committed in the window at least
                       this % of the orders answered RESERVED in it
  --cooldown 30s       the most a step's backlog is waited for before the next step
  --skus 8             SKUs each step's orders are spread over (fresh ones per step)
  --port-base 29100    the meshes' ports (catmesh up --port-base)
  --out FILE           also write the Markdown report to FILE (e.g. docs/order-pipeline.md)
  --json FILE          also write every step's figures as JSON to FILE`;

function percentage(flag: string, raw: string): number {
  const value = numberFlag(flag, raw, 0, true);
  if (value > 100) throw new UsageError(`--${flag}: expected a % up to 100, got "${raw}"`);
  return value;
}

export function parsePipelineOptions(argv: readonly string[]): PipelineOptions {
  const v = parseFlags(argv, {
    runs: { type: 'string', default: '3' },
    tracing: { type: 'string', default: 'off,on' },
    start: { type: 'string', default: '10' },
    factor: { type: 'string', default: '1.5' },
    refine: { type: 'string', default: '2' },
    'max-rate': { type: 'string', default: '500' },
    warmup: { type: 'string', default: '1s' },
    duration: { type: 'string', default: '6s' },
    deadline: { type: 'string', default: '5s' },
    p99: { type: 'string', default: '500ms' },
    'min-ok': { type: 'string', default: '99' },
    'min-fulfilled': { type: 'string', default: '95' },
    cooldown: { type: 'string', default: '30s' },
    skus: { type: 'string', default: '8' },
    'port-base': { type: 'string', default: '29100' },
    out: { type: 'string' },
    json: { type: 'string' },
  });
  const factor = numberFlag('factor', v.factor, 1, true);
  if (factor <= 1) throw new UsageError(`--factor: expected a number above 1, got "${v.factor}"`);
  const portBase = numberFlag('port-base', v['port-base'], 1024);
  // The mesh's ports reach 2401 above the base (port-plan.ts), below the ephemeral range.
  if (portBase > 30_000) {
    throw new UsageError(`--port-base: expected at most 30000, got "${v['port-base']}"`);
  }
  return {
    runs: numberFlag('runs', v.runs, 1),
    tracing: choicesFlag('tracing', v.tracing, TRACING),
    search: {
      start: numberFlag('start', v.start, 1),
      factor,
      refine: numberFlag('refine', v.refine, 0),
      maxRate: numberFlag('max-rate', v['max-rate'], 1),
    },
    step: {
      warmupMs: durationFlag('warmup', v.warmup, 0),
      durationMs: durationFlag('duration', v.duration, 1000),
      deadlineMs: durationFlag('deadline', v.deadline, 1),
      maxP99Ms: durationFlag('p99', v.p99, 1),
      minOkPercent: percentage('min-ok', v['min-ok']),
      minFulfilledPercent: percentage('min-fulfilled', v['min-fulfilled']),
      cooldownMs: durationFlag('cooldown', v.cooldown, 0),
      skus: numberFlag('skus', v.skus, 1),
    },
    portBase,
    out: v.out,
    json: v.json,
  };
}
