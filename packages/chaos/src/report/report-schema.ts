// The JSON Schema of report.json, so that scripts (and the dashboard) can rely on its shape, and
// so that a report this code writes is checked before it is written.
import { Ajv } from 'ajv';
import { MECHANISMS } from '../experiment/experiment-types.js';
import {
  HYPOTHESIS_VERDICTS,
  REPORT_API_VERSION,
  REPORT_KIND,
  type ChaosReport,
} from './report-types.js';

const ms = { type: 'number', minimum: 0 } as const;
const msOrNull = { type: ['number', 'null'], minimum: 0 } as const;
const ratioOrNull = { type: ['number', 'null'], minimum: 0, maximum: 1 } as const;
const window = {
  type: 'object',
  additionalProperties: false,
  required: ['start', 'end'],
  properties: { start: ms, end: ms },
} as const;
const windows = (item: object) =>
  ({
    type: 'object',
    additionalProperties: false,
    required: ['before', 'during', 'after'],
    properties: { before: item, during: item, after: item },
  }) as const;
const count = { type: 'integer', minimum: 0 } as const;
const strings = { type: 'array', items: { type: 'string' } } as const;

const windowStats = {
  type: 'object',
  additionalProperties: false,
  required: ['total', 'ok', 'failed', 'successRatio', 'p50Ms', 'p99Ms', 'maxMs'],
  properties: {
    total: count,
    ok: count,
    failed: count,
    successRatio: ratioOrNull,
    p50Ms: msOrNull,
    p99Ms: msOrNull,
    maxMs: msOrNull,
  },
} as const;

const operation = {
  type: 'object',
  additionalProperties: false,
  required: [
    'name',
    'label',
    'windows',
    'timeToFirstFailureMs',
    'timeToFirstSuccessMs',
    'timeToRecoveryMs',
    'errors',
    'series',
  ],
  properties: {
    name: { type: 'string' },
    label: { type: 'string' },
    windows: windows(windowStats),
    timeToFirstFailureMs: msOrNull,
    timeToFirstSuccessMs: msOrNull,
    timeToRecoveryMs: msOrNull,
    errors: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['error', 'count'],
        properties: { error: { type: 'string' }, count },
      },
    },
    series: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['at', 'ok', 'failed', 'p50Ms', 'p99Ms'],
        properties: { at: ms, ok: count, failed: count, p50Ms: msOrNull, p99Ms: msOrNull },
      },
    },
  },
} as const;

const election = {
  type: 'object',
  additionalProperties: false,
  required: ['lostAt', 'electedAt', 'gapMs', 'from', 'to', 'term'],
  properties: {
    lostAt: ms,
    electedAt: ms,
    gapMs: ms,
    from: { type: ['string', 'null'] },
    to: { type: 'string' },
    term: count,
  },
} as const;

const step = {
  type: 'object',
  additionalProperties: false,
  required: [
    'name',
    'mechanism',
    'kind',
    'description',
    'plannedStart',
    'plannedEnd',
    'appliedAt',
    'revertedAt',
    'targets',
    'peers',
    'injections',
    'effect',
  ],
  properties: {
    name: { type: 'string' },
    mechanism: { type: 'string', enum: [...MECHANISMS] },
    kind: { type: 'string' },
    description: { type: 'string' },
    plannedStart: ms,
    plannedEnd: ms,
    appliedAt: msOrNull,
    revertedAt: msOrNull,
    targets: strings,
    peers: { type: ['array', 'null'], items: { type: 'string' } },
    injections: { type: ['integer', 'null'], minimum: 0 },
    effect: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['leaderAtApply', 'elections', 'commits', 'operations'],
      properties: {
        leaderAtApply: {
          type: ['object', 'null'],
          additionalProperties: false,
          required: ['name', 'term'],
          properties: { name: { type: 'string' }, term: count },
        },
        elections: { type: 'array', items: election },
        commits: { type: 'object', additionalProperties: count },
        operations: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'label', 'ok', 'failed'],
            properties: {
              name: { type: 'string' },
              label: { type: 'string' },
              ok: count,
              failed: count,
            },
          },
        },
      },
    },
    error: { type: 'string' },
  },
} as const;

const raft = {
  type: ['object', 'null'],
  additionalProperties: false,
  required: ['leaderTimeline', 'leaderChanges', 'elections', 'commitProgress'],
  properties: {
    leaderTimeline: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['start', 'end', 'leader', 'term'],
        properties: { start: ms, end: ms, leader: { type: ['string', 'null'] }, term: count },
      },
    },
    leaderChanges: count,
    elections: { type: 'array', items: election },
    commitProgress: {
      type: 'object',
      additionalProperties: windows({ type: ['integer', 'null'], minimum: 0 }),
    },
  },
} as const;

export const reportSchema = {
  $id: 'https://catmesh.dev/schemas/chaos-report-v1alpha1.json',
  title: 'ChaosReport',
  type: 'object',
  additionalProperties: false,
  required: [
    'apiVersion',
    'kind',
    'experiment',
    'run',
    'windows',
    'steps',
    'operations',
    'raft',
    'linearizability',
    'shop',
    'hypothesis',
    'findings',
  ],
  properties: {
    apiVersion: { const: REPORT_API_VERSION },
    kind: { const: REPORT_KIND },
    experiment: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'description', 'lesson', 'source'],
      properties: {
        name: { type: 'string' },
        description: { type: 'string' },
        lesson: { type: ['string', 'null'] },
        source: { type: 'string' },
      },
    },
    run: {
      type: 'object',
      additionalProperties: false,
      required: ['id', 'startedAt', 'endedAt', 'timeScale', 'interrupted', 'mesh'],
      properties: {
        id: { type: 'string' },
        startedAt: { type: 'string' },
        endedAt: { type: 'string' },
        timeScale: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
        interrupted: { type: 'boolean' },
        mesh: { type: 'string' },
      },
    },
    windows: windows(window),
    steps: { type: 'array', items: step },
    operations: { type: 'array', items: operation },
    raft,
    linearizability: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['consistency', 'verdict', 'operations', 'keys', 'historyFile'],
      properties: {
        consistency: { type: 'string', enum: ['linearizable', 'lease', 'stale'] },
        verdict: { type: 'string', enum: ['ok', 'illegal', 'unknown'] },
        operations: count,
        keys: count,
        explanation: { type: 'string' },
        historyFile: { type: 'string' },
        explanationFile: { type: 'string' },
      },
    },
    shop: {
      type: ['object', 'null'],
      additionalProperties: false,
      required: ['ordersPlaced', 'ordersAcknowledged', 'byState', 'lost', 'stuck', 'invariants'],
      properties: {
        ordersPlaced: count,
        ordersAcknowledged: count,
        byState: { type: 'object', additionalProperties: count },
        lost: strings,
        stuck: strings,
        invariants: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'holds', 'detail'],
            properties: {
              name: { type: 'string' },
              holds: { type: 'boolean' },
              detail: { type: 'string' },
            },
          },
        },
      },
    },
    hypothesis: {
      type: 'object',
      additionalProperties: false,
      required: ['verdict', 'probes'],
      properties: {
        verdict: { type: 'string', enum: [...HYPOTHESIS_VERDICTS] },
        probes: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['probe', 'windows'],
            properties: {
              probe: { type: 'object' },
              windows: windows({
                type: 'object',
                additionalProperties: false,
                required: ['value', 'holds'],
                properties: { value: { type: ['number', 'null'] }, holds: { type: 'boolean' } },
              }),
            },
          },
        },
      },
    },
    findings: strings,
  },
} as const;

const validate = new Ajv({
  allErrors: true,
  strict: true,
  allowUnionTypes: true,
}).compile<ChaosReport>(reportSchema);

/** Throws, naming every field that does not fit, when `value` is not a valid report. */
export function assertValidReport(value: unknown): asserts value is ChaosReport {
  if (validate(value)) return;
  const problems = (validate.errors ?? []).map(
    (e) => `${e.instancePath || '/'} ${e.message ?? e.keyword}`,
  );
  throw new Error(`not a valid chaos report:\n${problems.join('\n')}`);
}
